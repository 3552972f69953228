// Encoder goldens. Each expected text is what `nft --debug=netlink` (nftables 1.0.6) printed for
// the nft rule quoted above it, i.e. nft's own encoding of the same rule, in the format of
// nftables' tests/py *.payload files.
#include "common/nft/encoder.h"

#include <catch2/catch.hpp>

#include "test/harness/status_assertions.h"

namespace weave::nft {
namespace {

using net::Cidr;
using net::Ipv4;

Cidr Net(const char* text) { return *Cidr::Parse(text); }

std::string Encoded(const Rule& rule, Family family = Family::kInet) {
  absl::StatusOr<std::string> text = EncodeRuleText(TableId{family, "t"}, "c", rule);
  REQUIRE_OK(text);
  return *text;
}

TEST_CASE("oifname, ip saddr != prefix, ct state established,related accept") {
  // oifname "weave" ip saddr != 10.32.0.0/12 ct state established,related accept
  const Rule rule{{Is(Field::kOifname, Ifname{"weave"}),
                   IsNot(Field::kIpSaddr, Net("10.32.0.0/12")),
                   Is(Field::kCtState, CtStates{kCtEstablished | kCtRelated}), Accept()}};
  CHECK(Encoded(rule) == R"(inet t c
  [ meta load oifname => reg 1 ]
  [ cmp eq reg 1 0x76616577 0x00000065 0x00000000 0x00000000 ]
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x00000002 ]
  [ payload load 4b @ network header + 12 => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x0000f0ff ) ^ 0x00000000 ]
  [ cmp neq reg 1 0x0000200a ]
  [ ct load state => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000 ]
  [ cmp neq reg 1 0x00000000 ]
  [ immediate reg 0 accept ]
)");
}

TEST_CASE("tcp port range, counter, drop and a comment") {
  // tcp dport 80-90 counter drop comment "hello world"
  const Rule rule{{Is(Field::kTcpDport, PortRange{80, 90}), Counter{}, Drop()}, "hello world"};
  CHECK(Encoded(rule) == R"(inet t c
  [ meta load l4proto => reg 1 ]
  [ cmp eq reg 1 0x00000006 ]
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ cmp gte reg 1 0x00005000 ]
  [ cmp lte reg 1 0x00005a00 ]
  [ counter pkts 0 bytes 0 ]
  [ immediate reg 0 drop ]
  userdata = { \x00\x0chello world\x00 })");
}

TEST_CASE("fib daddr type local, NFLOG with prefix") {
  // fib daddr type local log prefix "x" group 86 drop
  const Rule rule{{Is(Field::kFibDaddrType, AddrType::kLocal), Log{"x", 86}, Drop()}};
  CHECK(Encoded(rule) == R"(inet t c
  [ fib daddr type => reg 1 ]
  [ cmp eq reg 1 0x00000002 ]
  [ log prefix x group 86 snaplen 0 qthreshold 0 ]
  [ immediate reg 0 drop ]
)");
  // log group 86
  CHECK(Encoded(Rule{{Log{"", 86}}}) == R"(inet t c
  [ log group 86 snaplen 0 qthreshold 0 ]
)");
}

TEST_CASE("address sets, positive and negated") {
  // ip daddr @s return
  CHECK(Encoded(Rule{{InSet(Field::kIpDaddr, "s"), Return()}}) == R"(inet t c
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x00000002 ]
  [ payload load 4b @ network header + 16 => reg 1 ]
  [ lookup reg 1 set s ]
  [ immediate reg 0 return ]
)");
  // ip daddr != @s return
  CHECK(Encoded(Rule{{NotInSet(Field::kIpDaddr, "s"), Return()}}) == R"(inet t c
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x00000002 ]
  [ payload load 4b @ network header + 16 => reg 1 ]
  [ lookup reg 1 set s 0x1 ]
  [ immediate reg 0 return ]
)");
}

TEST_CASE("addresses: single, byte-aligned prefix, /0") {
  // ip saddr 1.2.3.4 accept
  CHECK(Encoded(Rule{{Is(Field::kIpSaddr, Net("1.2.3.4/32")), Accept()}}) == R"(inet t c
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x00000002 ]
  [ payload load 4b @ network header + 12 => reg 1 ]
  [ cmp eq reg 1 0x04030201 ]
  [ immediate reg 0 accept ]
)");
  // ip daddr != 10.0.0.0/8 accept
  CHECK(Encoded(Rule{{IsNot(Field::kIpDaddr, Net("10.0.0.0/8")), Accept()}}) == R"(inet t c
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x00000002 ]
  [ payload load 1b @ network header + 16 => reg 1 ]
  [ cmp neq reg 1 0x0000000a ]
  [ immediate reg 0 accept ]
)");
  // ip saddr 0.0.0.0/0 accept
  CHECK(Encoded(Rule{{Is(Field::kIpSaddr, Net("0.0.0.0/0")), Accept()}}) == R"(inet t c
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x00000002 ]
  [ payload load 4b @ network header + 12 => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x00000000 ) ^ 0x00000000 ]
  [ cmp eq reg 1 0x00000000 ]
  [ immediate reg 0 accept ]
)");
}

TEST_CASE("ports: th without dependency, negated range, sets, udp and sctp") {
  // th dport 53 accept
  CHECK(Encoded(Rule{{Is(Field::kThDport, Port(53)), Accept()}}) == R"(inet t c
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ cmp eq reg 1 0x00003500 ]
  [ immediate reg 0 accept ]
)");
  // tcp dport != 1-2 accept
  CHECK(Encoded(Rule{{IsNot(Field::kTcpDport, PortRange{1, 2}), Accept()}}) == R"(inet t c
  [ meta load l4proto => reg 1 ]
  [ cmp eq reg 1 0x00000006 ]
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ range neq reg 1 0x00000100 0x00000200 ]
  [ immediate reg 0 accept ]
)");
  // sctp dport @p accept
  CHECK(Encoded(Rule{{InSet(Field::kSctpDport, "p"), Accept()}}) == R"(inet t c
  [ meta load l4proto => reg 1 ]
  [ cmp eq reg 1 0x00000084 ]
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ lookup reg 1 set p ]
  [ immediate reg 0 accept ]
)");
  // udp dport != 53 accept
  CHECK(Encoded(Rule{{IsNot(Field::kUdpDport, Port(53)), Accept()}}) == R"(inet t c
  [ meta load l4proto => reg 1 ]
  [ cmp eq reg 1 0x00000011 ]
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ cmp neq reg 1 0x00003500 ]
  [ immediate reg 0 accept ]
)");
  // meta l4proto @l accept
  CHECK(Encoded(Rule{{InSet(Field::kL4Proto, "l"), Accept()}}) == R"(inet t c
  [ meta load l4proto => reg 1 ]
  [ lookup reg 1 set l ]
  [ immediate reg 0 accept ]
)");
  // meta l4proto != tcp
  CHECK(Encoded(Rule{{IsNot(Field::kL4Proto, kTcp)}}) == R"(inet t c
  [ meta load l4proto => reg 1 ]
  [ cmp neq reg 1 0x00000006 ]
)");
}

TEST_CASE("dependencies are emitted once per rule, as nft does") {
  // ip saddr 10.0.0.1 ip daddr 10.0.0.2 tcp dport 80 accept
  const Rule rule{{Is(Field::kIpSaddr, Net("10.0.0.1/32")), Is(Field::kIpDaddr, Net("10.0.0.2/32")),
                   Is(Field::kTcpDport, Port(80)), Accept()}};
  CHECK(Encoded(rule) == R"(inet t c
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x00000002 ]
  [ payload load 4b @ network header + 12 => reg 1 ]
  [ cmp eq reg 1 0x0100000a ]
  [ payload load 4b @ network header + 16 => reg 1 ]
  [ cmp eq reg 1 0x0200000a ]
  [ meta load l4proto => reg 1 ]
  [ cmp eq reg 1 0x00000006 ]
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ cmp eq reg 1 0x00005000 ]
  [ immediate reg 0 accept ]
)");
  // The ip family needs no nfproto check.
  CHECK(Encoded(rule, Family::kIp) == R"(ip t c
  [ payload load 4b @ network header + 12 => reg 1 ]
  [ cmp eq reg 1 0x0100000a ]
  [ payload load 4b @ network header + 16 => reg 1 ]
  [ cmp eq reg 1 0x0200000a ]
  [ meta load l4proto => reg 1 ]
  [ cmp eq reg 1 0x00000006 ]
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ cmp eq reg 1 0x00005000 ]
  [ immediate reg 0 accept ]
)");
  // The bridge family checks the ethertype instead.
  CHECK(Encoded(rule, Family::kBridge) == R"(bridge t c
  [ meta load protocol => reg 1 ]
  [ cmp eq reg 1 0x00000008 ]
  [ payload load 4b @ network header + 12 => reg 1 ]
  [ cmp eq reg 1 0x0100000a ]
  [ payload load 4b @ network header + 16 => reg 1 ]
  [ cmp eq reg 1 0x0200000a ]
  [ meta load l4proto => reg 1 ]
  [ cmp eq reg 1 0x00000006 ]
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ cmp eq reg 1 0x00005000 ]
  [ immediate reg 0 accept ]
)");
  // meta l4proto tcp counter tcp dport 80: the explicit match pins the protocol.
  CHECK(Encoded(Rule{{Is(Field::kL4Proto, kTcp), Counter{}, Is(Field::kTcpDport, Port(80))}}) ==
        R"(inet t c
  [ meta load l4proto => reg 1 ]
  [ cmp eq reg 1 0x00000006 ]
  [ counter pkts 0 bytes 0 ]
  [ payload load 2b @ transport header + 2 => reg 1 ]
  [ cmp eq reg 1 0x00005000 ]
)");
}

TEST_CASE("ct states, jumps and gotos") {
  // ct state new jump d
  CHECK(Encoded(Rule{{Is(Field::kCtState, CtStates{kCtNew}), Jump("d")}}) == R"(inet t c
  [ ct load state => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x00000008 ) ^ 0x00000000 ]
  [ cmp neq reg 1 0x00000000 ]
  [ immediate reg 0 jump -> d ]
)");
  // ct state != established goto d
  CHECK(Encoded(Rule{{IsNot(Field::kCtState, CtStates{kCtEstablished}), Goto("d")}}) ==
        R"(inet t c
  [ ct load state => reg 1 ]
  [ cmp neq reg 1 0x00000002 ]
  [ immediate reg 0 goto -> d ]
)");
}

TEST_CASE("marks: set, or, match, masked match") {
  // meta mark set 0x1
  CHECK(Encoded(Rule{{SetMark{0x1}}}) == R"(inet t c
  [ immediate reg 1 0x00000001 ]
  [ meta set mark with reg 1 ]
)");
  // meta mark set meta mark | 0x4000
  CHECK(Encoded(Rule{{SetMark{0x4000, /*or_existing=*/true}}}) == R"(inet t c
  [ meta load mark => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0xffffbfff ) ^ 0x00004000 ]
  [ meta set mark with reg 1 ]
)");
  // meta mark 0x4000 accept
  CHECK(Encoded(Rule{{Is(Field::kMark, Mark{0x4000}), Accept()}}) == R"(inet t c
  [ meta load mark => reg 1 ]
  [ cmp eq reg 1 0x00004000 ]
  [ immediate reg 0 accept ]
)");
  // meta mark & 0x4000 != 0x4000
  CHECK(Encoded(Rule{{IsNot(Field::kMark, MaskedMark{0x4000, 0x4000})}}) == R"(inet t c
  [ meta load mark => reg 1 ]
  [ bitwise reg 1 = ( reg 1 & 0x00004000 ) ^ 0x00000000 ]
  [ cmp neq reg 1 0x00004000 ]
)");
}

TEST_CASE("interface names: wildcard prefix, negation, sets") {
  // iifname "vethwe*" accept
  CHECK(Encoded(Rule{{Is(Field::kIifname, Ifname{"vethwe*"}), Accept()}}) == R"(inet t c
  [ meta load iifname => reg 1 ]
  [ cmp eq reg 1 0x68746576 0x00006577 ]
  [ immediate reg 0 accept ]
)");
  // iifname != @i accept
  CHECK(Encoded(Rule{{NotInSet(Field::kIifname, "i"), Accept()}}) == R"(inet t c
  [ meta load iifname => reg 1 ]
  [ lookup reg 1 set i 0x1 ]
  [ immediate reg 0 accept ]
)");
  // iifname != "weave"
  CHECK(Encoded(Rule{{IsNot(Field::kIifname, Ifname{"weave"})}}) == R"(inet t c
  [ meta load iifname => reg 1 ]
  [ cmp neq reg 1 0x76616577 0x00000065 0x00000000 0x00000000 ]
)");
}

TEST_CASE("address, protocol and port concatenated in 32-bit registers, looked up in a set") {
  // ip daddr . meta l4proto . th dport @s counter accept
  CHECK(Encoded(Rule{{InSet(Field::kIpDaddrL4ProtoThDport, "s"), Counter{}, Accept()}}) ==
        R"(inet t c
  [ meta load nfproto => reg 1 ]
  [ cmp eq reg 1 0x00000002 ]
  [ payload load 4b @ network header + 16 => reg 1 ]
  [ meta load l4proto => reg 9 ]
  [ payload load 2b @ transport header + 2 => reg 10 ]
  [ lookup reg 1 set s ]
  [ counter pkts 0 bytes 0 ]
  [ immediate reg 0 accept ]
)");
  // ip daddr . meta l4proto . th dport != @s drop
  CHECK(Encoded(Rule{{NotInSet(Field::kIpDaddrL4ProtoThDport, "s"), Drop()}}, Family::kIp) ==
        R"(ip t c
  [ payload load 4b @ network header + 16 => reg 1 ]
  [ meta load l4proto => reg 9 ]
  [ payload load 2b @ transport header + 2 => reg 10 ]
  [ lookup reg 1 set s 0x1 ]
  [ immediate reg 0 drop ]
)");
}

TEST_CASE("a set of address, protocol and port triples has nft's type number and key layout") {
  // What the kernel held for `type ipv4_addr . inet_proto . inet_service` after nft 1.0.6 made
  // the set: the parts' type numbers 7, 12, 13 in 6 bits each; each part padded to 4 bytes.
  CHECK(KeyTypeId(SetKeyType::kIpv4AddrProtoService) == ((7u << 6 | 12u) << 6 | 13u));
  CHECK(KeyTypeId(SetKeyType::kIpv4AddrProtoService) == 29453);
  CHECK(KeyTypeFromId(29453) == SetKeyType::kIpv4AddrProtoService);
  CHECK(KeyLength(SetKeyType::kIpv4AddrProtoService) == 12);
  // nft --debug=netlink: element 0500200a 00000006 0000901f (10.32.0.5 . tcp . 8080).
  CHECK(ElementKey(SetKeyType::kIpv4AddrProtoService,
                   AddrProtoPort{*Ipv4::Parse("10.32.0.5"), kTcp, 8080}) ==
        std::string("\x0a\x20\x00\x05"
                    "\x06\x00\x00\x00"
                    "\x1f\x90\x00\x00",
                    12));
}

TEST_CASE("masquerade") {
  // masquerade
  CHECK(Encoded(Rule{{Masquerade{}}}) == "inet t c\n  [ masq ]\n");
  // masquerade fully-random
  CHECK(Encoded(Rule{{Masquerade{/*fully_random=*/true}}}) == "inet t c\n  [ masq flags 0x10 ]\n");
}

TEST_CASE("EncodeRule refuses what cannot be encoded") {
  CHECK(EncodeRule(TableId{Family::kInet, "t"}, "c", Rule{{Accept(), Counter{}}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(EncodeRule(TableId{Family::kInet, "t"}, "c", Rule{{Is(Field::kIpSaddr, Port(80))}})
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(EncodeRule(TableId{Family::kInet, "t"}, "c", Rule{{Jump("fwd")}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

// --------------------------------------------------------------------------------------------
// Batches.

std::vector<std::string> Summaries(const Batch& batch) {
  std::vector<std::string> out;
  for (const BatchMessage& message : batch.messages()) out.push_back(message.summary);
  return out;
}

SetShapeLookup NoSets() {
  return [](const TableId&, absl::string_view) -> absl::StatusOr<std::optional<SetShape>> {
    return std::nullopt;
  };
}

Table WeaveTable() {
  return Table{Family::kInet,
               "weave",
               {Chain{"postrouting",
                      BaseChain{ChainType::kNat, Hook::kPostrouting, 100, Policy::kAccept},
                      {Rule{{Is(Field::kIpSaddr, Net("10.32.0.0/12")),
                             IsNot(Field::kIpDaddr, Net("10.32.0.0/12")), Masquerade{}}}}},
                Chain{"forward",
                      BaseChain{ChainType::kFilter, Hook::kForward, 0, Policy::kAccept},
                      {Rule{{Is(Field::kOifname, Ifname{"weave"}), Jump("gate")}}}},
                Chain{"gate", std::nullopt, {Rule{{InSet(Field::kIifname, "ready"), Return()}}}}},
               {Set{"ready", SetKeyType::kIfname, false, false, {Ifname{"npc-ready"}}}}};
}

TEST_CASE("ReplaceTable is one batch: create-if-absent, delete, then the new contents") {
  ASSIGN_OR_REQUIRE(
      const Batch batch,
      EncodeTransaction(Transaction{}.Add(ReplaceTable{WeaveTable()}), 100, NoSets()));
  CHECK(Summaries(batch) == std::vector<std::string>{
                                "NEWTABLE table inet weave",
                                "DELTABLE table inet weave",
                                "NEWTABLE table inet weave",
                                "NEWSET table inet weave ready",
                                "NEWSETELEM table inet weave ready (1 elements)",
                                "NEWCHAIN table inet weave postrouting",
                                "NEWCHAIN table inet weave forward",
                                "NEWCHAIN table inet weave gate",
                                "NEWRULE table inet weave postrouting",
                                "NEWRULE table inet weave forward",
                                "NEWRULE table inet weave gate",
                            });
  // Sequence numbers: 100 is the batch begin marker; messages follow; the end marker is last.
  CHECK(batch.messages().front().seq == 101);
  REQUIRE(batch.Find(110) != nullptr);
  CHECK(batch.Find(110)->what == "rule 1 of chain forward");
  CHECK(batch.Find(100) == nullptr);
}

TEST_CASE("element operations use the set's shape and split large sets into few messages") {
  Transaction transaction;
  std::vector<Element> elements;
  for (uint32_t i = 0; i < 1000; ++i) {
    elements.push_back(Cidr(Ipv4((10u << 24) + (i << 8)), 24));
  }
  transaction.Add(AddElements{{Family::kInet, "weave-npc"}, "pods", elements});
  int lookups = 0;
  const SetShapeLookup lookup =
      [&](const TableId& table, absl::string_view set) -> absl::StatusOr<std::optional<SetShape>> {
    ++lookups;
    CHECK(table.name == "weave-npc");
    CHECK(set == "pods");
    return SetShape{SetKeyType::kIpv4Addr, /*interval=*/true};
  };
  ASSIGN_OR_REQUIRE(const Batch batch, EncodeTransaction(transaction, 1, lookup));
  CHECK(lookups == 1);
  CHECK(Summaries(batch) == std::vector<std::string>{
                                "NEWSETELEM table inet weave-npc pods (256 elements)",
                                "NEWSETELEM table inet weave-npc pods (256 elements)",
                                "NEWSETELEM table inet weave-npc pods (256 elements)",
                                "NEWSETELEM table inet weave-npc pods (232 elements)",
                            });
  CHECK(batch.messages()[1].what == "elements 257-512 of set pods");
  CHECK(batch.size_bytes() < 128 * 1024);
}

TEST_CASE("element operations validate against the set they change") {
  const SetShapeLookup ports = [](const TableId&,
                                  absl::string_view) -> absl::StatusOr<std::optional<SetShape>> {
    return SetShape{SetKeyType::kInetService, /*interval=*/false};
  };
  const auto status = EncodeTransaction(
      Transaction{}.Add(AddElements{{Family::kInet, "t"}, "p", {PortRange{80, 90}}}), 1, ports);
  CHECK(status.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.status().message() ==
        "adding 1 element to set p of table inet t: element 80-90: is a range; the set needs the "
        "interval flag");

  const auto missing = EncodeTransaction(
      Transaction{}.Add(DeleteElements{{Family::kInet, "t"}, "nope", {Port(1)}}), 1, NoSets());
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(missing.status().message() ==
        "deleting 1 element from set nope of table inet t: set nope does not exist");
}

TEST_CASE("a set created earlier in the transaction needs no lookup") {
  Transaction transaction;
  transaction.Add(AddSet{{Family::kInet, "t"}, Set{"ports", SetKeyType::kInetService, true}});
  transaction.Add(AddElements{{Family::kInet, "t"}, "ports", {PortRange{80, 90}, Port(443)}});
  transaction.Add(ReplaceChainRules{{Family::kInet, "t"}, "c", {Rule{{Accept()}}}});
  ASSIGN_OR_REQUIRE(const Batch batch, EncodeTransaction(transaction, 1, NoSets()));
  CHECK(Summaries(batch) == std::vector<std::string>{
                                "NEWSET table inet t ports",
                                "NEWSETELEM table inet t ports (2 elements)",
                                "DELRULE table inet t c",
                                "NEWRULE table inet t c",
                            });
  CHECK(batch.messages()[2].what == "flushing chain c");
}

}  // namespace
}  // namespace weave::nft
