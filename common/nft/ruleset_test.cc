#include "common/nft/ruleset.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "common/nft/testdata.h"
#include "test/harness/status_assertions.h"

namespace weave::nft {
namespace {

using ::Catch::Matchers::Contains;
using testdata::Net;

TEST_CASE("ToText renders a table the way nft lists it") {
  CHECK(ToText(testdata::RouterTable()) == testdata::kRouterTableText);
  CHECK(ToText(Table{Family::kInet, "empty", {}, {}}) == "table inet empty {\n}\n");
}

TEST_CASE("ToText names priorities like nft: standard names, offsets up to 10, hook-specific") {
  const auto priority_line = [](Family family, ChainType type, Hook hook, int priority) {
    const Table table{
        family, "t", {Chain{"c", BaseChain{type, hook, priority, Policy::kDrop}, {}}}, {}};
    const std::string text = ToText(table);
    const size_t start = text.find("type ");
    return text.substr(start, text.find('\n', start) - start);
  };
  CHECK(priority_line(Family::kInet, ChainType::kFilter, Hook::kInput, -5) ==
        "type filter hook input priority filter - 5; policy drop;");
  CHECK(priority_line(Family::kIp, ChainType::kFilter, Hook::kOutput, 60) ==
        "type filter hook output priority security + 10; policy drop;");
  CHECK(priority_line(Family::kIp, ChainType::kFilter, Hook::kOutput, 11) ==
        "type filter hook output priority 11; policy drop;");
  CHECK(priority_line(Family::kIp, ChainType::kNat, Hook::kOutput, -100) ==
        "type nat hook output priority -100; policy drop;");
  CHECK(priority_line(Family::kIp, ChainType::kFilter, Hook::kPrerouting, -100) ==
        "type filter hook prerouting priority dstnat; policy drop;");
  CHECK(priority_line(Family::kIp, ChainType::kFilter, Hook::kInput, -310) ==
        "type filter hook input priority raw - 10; policy drop;");
  CHECK(priority_line(Family::kBridge, ChainType::kFilter, Hook::kForward, -200) ==
        "type filter hook forward priority filter; policy drop;");
  CHECK(priority_line(Family::kBridge, ChainType::kFilter, Hook::kForward, 0) ==
        "type filter hook forward priority 0; policy drop;");
  CHECK(priority_line(Family::kBridge, ChainType::kFilter, Hook::kPostrouting, 305) ==
        "type filter hook postrouting priority srcnat + 5; policy drop;");
}

TEST_CASE("ToText sorts and wraps set elements the way nft does") {
  // Addresses two per line; nft sorts numerically.
  Set addresses{"s", SetKeyType::kIpv4Addr, true, false, {}};
  for (const char* cidr :
       {"192.168.1.3/32", "10.0.0.0/8", "192.168.1.1/32", "192.168.1.5/32", "192.168.1.7/32"}) {
    addresses.elements.push_back(Net(cidr));
  }
  CHECK(ToText(Table{Family::kInet, "t", {}, {addresses}}) == R"(table inet t {
	set s {
		type ipv4_addr
		flags interval
		elements = { 10.0.0.0/8, 192.168.1.1,
			     192.168.1.3, 192.168.1.5,
			     192.168.1.7 }
	}
}
)");
  // Numbers five per line.
  Set ports{"p", SetKeyType::kInetService, true, false, {}};
  for (uint16_t port = 12; port >= 1; --port) ports.elements.push_back(Port(port));
  ports.elements.push_back(PortRange{8000, 8080});
  CHECK(ToText(Table{Family::kIp, "u", {}, {ports}}) == R"(table ip u {
	set p {
		type inet_service
		flags interval
		elements = { 1, 2, 3, 4, 5,
			     6, 7, 8, 9, 10,
			     11, 12, 8000-8080 }
	}
}
)");
  // Interface names one per line, in nft's order (host-endian strings compare from their end).
  const Set names{"i", SetKeyType::kIfname, false, false, {Ifname{"vethwe1"}, Ifname{"weave"}}};
  CHECK(ToText(Table{Family::kInet, "t", {}, {names}}) == R"(table inet t {
	set i {
		type ifname
		elements = { "weave",
			     "vethwe1" }
	}
}
)");
  const Set marks{"m", SetKeyType::kMark, false, true, {Mark{0x4000}, Mark{1}}};
  const Set protocols{"l", SetKeyType::kInetProto, false, false, {kSctp, kUdp, kTcp, L4Proto{99}}};
  CHECK(ToText(Table{Family::kInet, "t", {}, {marks, protocols}}) == R"(table inet t {
	set m {
		type mark
		flags constant
		elements = { 0x00000001, 0x00004000 }
	}

	set l {
		type inet_proto
		elements = { tcp, udp, 99, sctp }
	}
}
)");
}

TEST_CASE("ToText lists address, protocol and port triples the way nft does") {
  // What nft 1.0.6 listed for a set it was given these elements: one per line, ordered by the
  // key's bytes read as a little-endian number (port, then protocol, then address, each from its
  // last byte), protocols by name where /etc/protocols has one.
  const auto triple = [](const char* addr, L4Proto proto, uint16_t port) {
    return AddrProtoPort{testdata::Addr(addr), proto, port};
  };
  const Set triples{
      "s",
      SetKeyType::kIpv4AddrProtoService,
      false,
      false,
      {triple("1.1.1.1", kTcp, 1), triple("1.1.1.2", kTcp, 1), triple("1.1.1.1", kUdp, 1),
       triple("2.1.1.1", kTcp, 1), triple("1.1.1.1", kTcp, 257), triple("1.1.1.1", kTcp, 2),
       triple("1.1.1.1", kIcmp, 1), triple("0.0.0.0", L4Proto{0}, 0), triple("1.1.1.1", kTcp, 1)}};
  CHECK(ToText(Table{Family::kInet, "u", {}, {triples}}) == R"(table inet u {
	set s {
		type ipv4_addr . inet_proto . inet_service
		elements = { 0.0.0.0 . ip . 0,
			     1.1.1.1 . icmp . 1,
			     1.1.1.1 . tcp . 1,
			     2.1.1.1 . tcp . 1,
			     1.1.1.2 . tcp . 1,
			     1.1.1.1 . udp . 1,
			     1.1.1.1 . tcp . 257,
			     1.1.1.1 . tcp . 2 }
	}
}
)");
  CHECK(ToText(Element(triple("10.32.0.5", L4Proto{99}, 8080))) == "10.32.0.5 . 99 . 8080");
  CHECK(ToText(Rule{{NotInSet(Field::kIpDaddrL4ProtoThDport, "s"), Drop()}}) ==
        "ip daddr . meta l4proto . th dport != @s drop");
}

TEST_CASE("ToText renders every statement") {
  CHECK(ToText(Rule{{IsNot(Field::kCtState, CtStates{kCtEstablished}), Goto("x")}}) ==
        "ct state != established goto x");
  CHECK(ToText(Rule{
            {Is(Field::kMark, MaskedMark{0x4000, 0x4000}), SetMark{0x1}, SetMark{0x4000, true}}}) ==
        "meta mark & 0x00004000 == 0x00004000 meta mark set 0x00000001 meta mark set meta mark | "
        "0x00004000");
  CHECK(ToText(Rule{{IsNot(Field::kFibDaddrType, AddrType::kLocal), IsNot(Field::kL4Proto, kTcp),
                     IsNot(Field::kThDport, PortRange{1, 3}), NotInSet(Field::kMark, "m")}}) ==
        "fib daddr type != local meta l4proto != tcp th dport != 1-3 meta mark != @m");
  CHECK(ToText(Rule{{Log{"", 86}, Masquerade{}}}) == "log group 86 masquerade");
  CHECK(ToText(Rule{{}, "", 7, "[ quota ]"}) == "# undecoded: [ quota ]");
}

TEST_CASE("names must be readable by nft") {
  CHECK_OK(ValidateName("forward", "chain name"));
  CHECK_OK(ValidateName("weave-npc", "table name"));
  CHECK_OK(ValidateName("ingress.ns_1", "chain name"));
  CHECK_THAT(std::string(ValidateName("fwd", "chain name").message()),
             Contains("is an nft keyword"));
  CHECK_FALSE(ValidateName("ip", "set name").ok());
  CHECK_FALSE(ValidateName("9lives", "set name").ok());
  CHECK_FALSE(ValidateName("a b", "set name").ok());
  CHECK_FALSE(ValidateName("", "set name").ok());
  CHECK_FALSE(ValidateName(std::string(256, 'a'), "set name").ok());
}

TEST_CASE("ValidateTable accepts the shared tables and names what is wrong in bad ones") {
  CHECK_OK(ValidateTable(testdata::RouterTable()));
  CHECK_OK(ValidateTable(testdata::PolicyTable()));

  const auto error = [](const Table& table) { return std::string(ValidateTable(table).message()); };
  const auto with_rule = [](Rule rule) {
    return Table{Family::kInet, "t", {Chain{"c", std::nullopt, {std::move(rule)}}}, {}};
  };
  CHECK(error(with_rule(Rule{{Accept(), Counter{}}})) ==
        "rule 1 of chain c: statement 1 (accept): a verdict must be the last statement");
  CHECK(error(with_rule(Rule{{Is(Field::kIpSaddr, Net("10.0.0.1/8"))}})) ==
        "rule 1 of chain c: statement 1 (ip saddr 10.0.0.1/8): 10.0.0.1/8 has host bits set; use "
        "10.0.0.0/8");
  CHECK_THAT(error(with_rule(Rule{{IsNot(Field::kCtState, CtStates{kCtNew | kCtInvalid})}})),
             Contains("ct state != takes a single state"));
  CHECK_THAT(error(with_rule(Rule{{Is(Field::kTcpDport, Ifname{"x"})}})),
             Contains("does not suit a field of type inet_service"));
  CHECK_THAT(error(with_rule(Rule{{Is(Field::kIifname, Ifname{"a-name-that-is-too-long"})}})),
             Contains("longer than 15"));
  CHECK_THAT(error(with_rule(Rule{{}, "say \"hi\""})), Contains("comment"));
  CHECK_THAT(error(with_rule(Rule{{Log{"two\nlines", 86}}})), Contains("log prefix"));
  CHECK_THAT(error(with_rule(Rule{{Jump("set")}})),
             Contains("jump target \"set\" is an nft keyword"));

  Table bridge{Family::kBridge, "b", {Chain{"c", std::nullopt, {Rule{{Masquerade{}}}}}}, {}};
  CHECK_THAT(error(bridge), Contains("masquerade is not available in the bridge family"));
  Table nat_forward{
      Family::kInet,
      "t",
      {Chain{"c", BaseChain{ChainType::kNat, Hook::kForward, 0, Policy::kAccept}, {}}},
      {}};
  CHECK(error(nat_forward) == "chain c: nat chains cannot hook forward");

  Table sets{
      Family::kInet, "t", {}, {Set{"s", SetKeyType::kIpv4Addr, false, false, {Net("10.0.0.0/8")}}}};
  CHECK(error(sets) == "set s: element 10.0.0.0/8: is a network; the set needs the interval flag");
  sets.sets[0].interval = true;
  sets.sets[0].elements.push_back(Net("10.1.0.0/16"));
  CHECK(error(sets) == "set s: elements 10.0.0.0/8 and 10.1.0.0/16: overlap");
  sets.sets[0] = Set{"s", SetKeyType::kMark, true, false, {}};
  CHECK(error(sets) == "set s: only ipv4_addr and inet_service sets take the interval flag");
  sets.sets = {Set{"s", SetKeyType::kIfname, false, false, {}},
               Set{"s", SetKeyType::kMark, false, false, {}}};
  CHECK(error(sets) == "two sets named s");
}

TEST_CASE("address, protocol and port triples go in their own sets and are only looked up") {
  const AddrProtoPort web{testdata::Addr("10.32.0.5"), kTcp, 8080};
  Set triples{"s", SetKeyType::kIpv4AddrProtoService, false, false, {web}};
  CHECK_OK(ValidateSet(triples));
  CHECK(ValidateElements(triples, {Net("10.32.0.5/32")}).message() ==
        "element 10.32.0.5: does not suit a set of type ipv4_addr . inet_proto . inet_service");
  CHECK(ValidateElements(Set{"a", SetKeyType::kIpv4Addr}, {web}).message() ==
        "element 10.32.0.5 . tcp . 8080: does not suit a set of type ipv4_addr");
  triples.interval = true;
  CHECK(ValidateSet(triples).message() ==
        "set s: only ipv4_addr and inet_service sets take the interval flag");

  CHECK(KeyTypeOf(Field::kIpDaddrL4ProtoThDport) == SetKeyType::kIpv4AddrProtoService);
  CHECK(KeyTypeOf(Element(web)) == SetKeyType::kIpv4AddrProtoService);
  CHECK_OK(ValidateRule(Family::kInet, Rule{{InSet(Field::kIpDaddrL4ProtoThDport, "s")}}));
  CHECK_OK(ValidateRule(Family::kIp, Rule{{NotInSet(Field::kIpDaddrL4ProtoThDport, "s")}}));
  for (const Value& value :
       {Value(Net("10.32.0.5/32")), Value(Port(8080)), Value(kTcp), Value(Mark{1})}) {
    CHECK_THAT(
        std::string(ValidateRule(Family::kInet, Rule{{Is(Field::kIpDaddrL4ProtoThDport, value)}})
                        .message()),
        Contains("ip daddr . meta l4proto . th dport can only be looked up in a set"));
  }
}

TEST_CASE("elements order by kind, then value, and triples by address, protocol, port") {
  const auto triple = [](const char* addr, L4Proto proto, uint16_t port) {
    return Element(AddrProtoPort{testdata::Addr(addr), proto, port});
  };
  CHECK(ElementLess(triple("10.0.0.1", kUdp, 1), triple("10.0.0.2", kTcp, 1)));
  CHECK(ElementLess(triple("10.0.0.1", kTcp, 9), triple("10.0.0.1", kUdp, 1)));
  CHECK(ElementLess(triple("10.0.0.1", kTcp, 1), triple("10.0.0.1", kTcp, 2)));
  CHECK_FALSE(ElementLess(triple("10.0.0.1", kTcp, 1), triple("10.0.0.1", kTcp, 1)));
  CHECK(ElementLess(Mark{UINT32_MAX}, triple("0.0.0.0", L4Proto{0}, 0)));  // Kinds in order.
  CHECK(SortedElements({triple("10.0.0.2", kTcp, 1), triple("10.0.0.1", kTcp, 1),
                        triple("10.0.0.2", kTcp, 1)}) ==
        std::vector<Element>{triple("10.0.0.1", kTcp, 1), triple("10.0.0.2", kTcp, 1)});
}

TEST_CASE("canonical elements are used as they are, without a copy") {
  const std::vector<Element> sorted = {Port(1), Port(2), Port(3)};
  std::vector<Element> scratch;
  CHECK(IsCanonical(sorted));
  CHECK(&CanonicalElements(sorted, scratch) == &sorted);
  CHECK(scratch.empty());
  for (const std::vector<Element>& unsorted :
       {std::vector<Element>{Port(2), Port(1)}, std::vector<Element>{Port(1), Port(1)}}) {
    CHECK_FALSE(IsCanonical(unsorted));
    CHECK(&CanonicalElements(unsorted, scratch) == &scratch);
    CHECK(IsCanonical(scratch));
  }
  CHECK(IsCanonical({}));
}

TEST_CASE("SameContent ignores the order of chains and sets, not of rules") {
  const Table policy = testdata::PolicyTable();
  Table shuffled = policy;
  std::reverse(shuffled.chains.begin(), shuffled.chains.end());
  std::rotate(shuffled.sets.begin(), shuffled.sets.begin() + 2, shuffled.sets.end());
  CHECK_FALSE(shuffled == policy);
  CHECK(SameContent(shuffled, policy));

  Table reordered_rules = policy;
  std::swap(reordered_rules.chains[1].rules[0], reordered_rules.chains[1].rules[1]);
  CHECK_FALSE(SameContent(reordered_rules, policy));
  Table fewer = shuffled;
  fewer.sets.pop_back();
  CHECK_FALSE(SameContent(fewer, policy));
  Table renamed = shuffled;
  renamed.chains[0].name = "other";
  CHECK_FALSE(SameContent(renamed, policy));
  Table elsewhere = shuffled;
  elsewhere.family = Family::kIp;
  CHECK_FALSE(SameContent(elsewhere, policy));
}

TEST_CASE("equality ignores element order, counter values and handles") {
  Set a{"s", SetKeyType::kInetService, false, false, {Port(1), Port(2), Port(2)}};
  Set b{"s", SetKeyType::kInetService, false, false, {Port(2), Port(1)}};
  CHECK(a == b);
  b.elements.push_back(Port(3));
  CHECK_FALSE(a == b);

  Rule counted{{Counter{10, 1000}, Accept()}, "", 42};
  CHECK(counted == Rule{{Counter{}, Accept()}});
  CHECK_FALSE(counted == Rule{{Counter{}, Drop()}});
  CHECK_FALSE(counted == Rule{{Counter{}, Accept()}, "comment"});
}

TEST_CASE("Normalize folds protocol dependencies the way the kernel dump reads back") {
  // `meta l4proto tcp th dport 80` is what `tcp dport 80` encodes to.
  CHECK(Normalize(Rule{{Is(Field::kL4Proto, kTcp), Is(Field::kThDport, Port(80)), Accept()}}) ==
        Rule{{Is(Field::kTcpDport, Port(80)), Accept()}});
  // A pinned protocol turns later th matches into that protocol's; an earlier explicit match that
  // is not adjacent stays.
  const Rule pinned{{Is(Field::kL4Proto, kUdp), Is(Field::kIpSaddr, Net("10.0.0.0/8")),
                     Is(Field::kThDport, Port(53))}};
  CHECK(Normalize(pinned) ==
        Rule{{Is(Field::kL4Proto, kUdp), Is(Field::kIpSaddr, Net("10.0.0.0/8")),
              Is(Field::kUdpDport, Port(53))}});
  // After `tcp dport`, the protocol is tcp for the rest of the rule.
  CHECK(Normalize(Rule{{Is(Field::kTcpDport, Port(1)), Is(Field::kThDport, Port(2))}}) ==
        Rule{{Is(Field::kTcpDport, Port(1)), Is(Field::kTcpDport, Port(2))}});
  // Negations and sets pin nothing.
  const Rule unpinned{
      {IsNot(Field::kL4Proto, kTcp), InSet(Field::kL4Proto, "p"), Is(Field::kThDport, Port(2))}};
  CHECK(Normalize(unpinned) == unpinned);
  // A concatenation's th dport is part of its key, whatever the protocol pinned before.
  const Rule named_port{{Is(Field::kL4Proto, kTcp), InSet(Field::kIpDaddrL4ProtoThDport, "s"),
                         Is(Field::kThDport, Port(2))}};
  CHECK(Normalize(named_port) ==
        Rule{{Is(Field::kL4Proto, kTcp), InSet(Field::kIpDaddrL4ProtoThDport, "s"),
              Is(Field::kTcpDport, Port(2))}});
  CHECK(Normalize(testdata::PolicyTable()) == testdata::PolicyTable());
}

}  // namespace
}  // namespace weave::nft
