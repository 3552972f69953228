#include "npc/conformance/evaluator.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace weave::npc::conformance {
namespace {

// ---- Verbatim `nft list` output of nft 1.0.6 (Debian 12), made with `nft -f` in a scratch
// network namespace. Tabs, wrapping and element order are nft's own.

// Every match kind, each probing with its own log group (see ProbeGroups).
constexpr const char* kRealProbe = R"nft(table inet probe {
	set ips {
		type ipv4_addr
		flags interval
		elements = { 10.0.0.0/8, 172.16.0.1-172.16.0.9,
			     192.168.1.1 }
	}

	set ports {
		type inet_service
		flags interval
		elements = { 80, 8000-8999 }
	}

	set protos {
		type inet_proto
		elements = { tcp, sctp }
	}

	set ifs {
		type ifname
		elements = { "eth0",
			     "weave" }
	}

	set wild {
		type ifname
		flags interval
		elements = { "lo",
			     "vethwe*" }
	}

	set marks {
		type mark
		elements = { 0x00000001, 0x00004000 }
	}

	set svc {
		type ipv4_addr . inet_proto . inet_service
		elements = { 10.32.0.6 . udp . 53,
			     10.32.0.5 . tcp . 8080 }
	}

	set svcint {
		type ipv4_addr . inet_proto . inet_service
		flags interval
		elements = { 10.32.1.0/24 . sctp . 1000-2000 }
	}

	chain in {
		type filter hook input priority filter; policy accept;
		ip saddr 10.1.2.3 log group 1
		ip saddr != 10.1.2.3 log group 2
		ip saddr 10.0.0.0/8 log group 3
		ip saddr != 10.0.0.0/8 log group 4
		ip saddr 10.0.0.1-10.0.0.9 log group 5
		ip saddr != 10.0.0.1-10.0.0.9 log group 6
		ip saddr @ips log group 7
		ip saddr != @ips log group 8
		ip daddr { 10.32.0.5, 10.33.0.0/16 } log group 9
		ip daddr != { 10.32.0.5, 10.33.0.0/16 } log group 10
		meta l4proto tcp log group 11
		meta l4proto != tcp log group 12
		meta l4proto @protos log group 13
		meta l4proto != @protos log group 14
		ip protocol udp log group 15
		tcp dport 80 log group 16
		tcp dport != 80 log group 17
		udp dport 80 log group 18
		udp dport != 80 log group 19
		sctp dport 80 log group 20
		th dport 80 log group 21
		th dport != 80 log group 22
		tcp dport 8000-8999 log group 23
		tcp dport @ports log group 24
		tcp dport != @ports log group 25
		tcp sport 1024-65535 log group 26
		udp sport != 53 log group 27
		th dport { 80, 443 } log group 28
		ct state established,related log group 29
		ct state new log group 30
		ct state != new log group 31
		ct state != established | related log group 32
		ct state { new, untracked } log group 33
		ct state == established log group 34
		iifname "weave" log group 35
		iifname != "weave" log group 36
		iifname "vethwe*" log group 37
		oifname @ifs log group 38
		oifname != @ifs log group 39
		iifname @wild log group 40
		meta mark 0x00000001 log group 41
		meta mark != 0x00000001 log group 42
		meta mark & 0x000000ff == 0x00000001 log group 43
		meta mark & 0x000000ff != 0x00000001 log group 44
		meta mark @marks log group 45
		ip daddr . meta l4proto . th dport @svc log group 46
		ip daddr . meta l4proto . th dport != @svc log group 47
		ip daddr . meta l4proto . th dport @svcint log group 48
		meta l4proto { tcp, udp } th dport { 80, 81 } log group 49
		ip saddr 10.0.0.0/8 tcp dport 80 ct state new log prefix "combo " group 50
		ct state established,related log group 51
		ct state untracked log group 52
	}
}
)nft";

// A weave-npc-like table: ct state, interface sets, jump/goto/return, concatenations.
constexpr const char* kRealWeaveNpc = R"nft(table inet weave-npc {
	set local-pods {
		type ipv4_addr
		flags interval
		elements = { 10.32.0.0/12 }
	}

	set x-a {
		type ipv4_addr
		elements = { 10.32.0.2, 10.32.0.3,
			     10.32.0.4, 10.32.0.5,
			     10.32.0.6, 10.32.0.7,
			     10.32.0.8 }
	}

	set ingress-allow {
		type ipv4_addr . inet_proto . inet_service
		flags interval
		elements = { 10.32.0.2 . tcp . 80,
			     10.32.0.3 . udp . 53,
			     10.32.1.0/24 . sctp . 1000-2000 }
	}

	set blocked {
		type ipv4_addr
		flags interval
		elements = { 10.40.0.0/16, 10.41.0.1-10.41.0.9 }
	}

	set bridge-ifs {
		type ifname
		elements = { "weave",
			     "vethwe-bridge" }
	}

	set ports-80 {
		type inet_service
		flags interval
		elements = { 80, 8000-8999 }
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state invalid drop
		ct state established,related accept
		iifname != @bridge-ifs oifname != @bridge-ifs accept
		oifname "weave" jump ingress
		iifname "weave" goto egress
	}

	chain ingress {
		ip saddr @blocked log prefix "blocked: " group 2 drop
		ip daddr . meta l4proto . th dport @ingress-allow accept
		ip daddr @x-a tcp dport @ports-80 counter packets 0 bytes 0 accept
		ip daddr != @x-a return
		log group 1 drop comment "default deny"
	}

	chain egress {
		ip saddr 10.32.0.9 udp dport 53 accept
		ip daddr @local-pods return
		counter packets 0 bytes 0 drop
	}
}
)nft";

// `nft list ruleset` of two tables with three base chains on forward, a nat chain and an
// output chain that sets the mark.
constexpr const char* kRealTwoTables = R"nft(table inet first {
	chain fwd-late {
		type filter hook forward priority filter + 10; policy accept;
		ip saddr 10.0.0.3 drop
	}

	chain fwd-early {
		type filter hook forward priority mangle; policy accept;
		ip saddr 10.0.0.1 accept
		ip saddr 10.0.0.2 drop
	}
}
table ip second {
	chain main {
		type filter hook forward priority filter; policy drop;
		ip saddr 10.0.0.1 accept
		ip saddr 10.0.0.3 accept
	}

	chain nat-post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" masquerade
	}

	chain local-out {
		type filter hook output priority filter; policy accept;
		meta mark set 0x00004000
		meta mark & 0x00004000 == 0x00004000 log group 7
	}
})nft";

// `nft -a list table`: handles as comments.
constexpr const char* kRealWithHandles = R"nft(table inet first { # handle 17
	chain fwd-late { # handle 1
		type filter hook forward priority filter + 10; policy accept;
		ip saddr 10.0.0.3 drop # handle 3
	}

	chain fwd-early { # handle 2
		type filter hook forward priority mangle; policy accept;
		ip saddr 10.0.0.1 accept # handle 4
		ip saddr 10.0.0.2 drop # handle 5
	}
}
)nft";

// `nft list ruleset` of many printing forms: wrapped and sorted elements, protocol numbers
// printed as names, priorities by name and offset, nat statements, `meta mark set`.
constexpr const char* kRealSyntaxZoo = R"nft(table inet weave-npc {
	set ips {
		type ipv4_addr
		flags interval
		elements = { 1.2.3.4, 2.2.2.2,
			     3.3.3.3, 4.4.4.4,
			     5.6.7.8, 8.8.8.8,
			     9.9.9.9, 10.0.0.1-10.0.0.9,
			     10.32.0.0/12, 100.64.0.0/10,
			     172.16.0.0/16, 192.168.1.1 }
	}

	set hosts {
		type ipv4_addr
		elements = { 10.32.0.5, 10.32.0.6 }
	}

	set ports {
		type inet_service
		flags interval
		elements = { 80, 443, 8080-8090 }
	}

	set protos {
		type inet_proto
		elements = { icmp, tcp, udp, dccp, sctp }
	}

	set ifs {
		type ifname
		elements = { "weave",
			     "vethwe-bridge" }
	}

	set marks {
		type mark
		elements = { 0x00000001, 0x00004000 }
	}

	set svc {
		type ipv4_addr . inet_proto . inet_service
		elements = { 10.32.0.6 . udp . 53,
			     10.32.0.7 . sctp . 80,
			     10.32.0.8 . tcp . 81,
			     10.32.0.5 . tcp . 8080 }
	}

	set svcint {
		type ipv4_addr . inet_proto . inet_service
		flags interval
		elements = { 10.32.0.0/24 . tcp . 80-90 }
	}

	chain ingress {
		ip daddr @hosts ip saddr != @ips counter packets 0 bytes 0 jump pol
		tcp dport 80 accept
		tcp dport != 80 drop
		th dport 80-90 ip saddr 10.0.0.0/8 log prefix "x: " group 3 accept
		meta l4proto { tcp, udp } th dport { 80, 81 } accept
		ip daddr . meta l4proto . th dport @svc accept
		ip daddr . meta l4proto . th dport != @svc return
		iifname "vethwe*" oifname != "weave" goto pol
		iifname @ifs accept
		meta mark & 0x000000ff == 0x00000001 drop
		meta mark 0x00004000 accept
		meta mark @marks accept
		ct state established,related accept
		ct state != established | related drop
		ct state invalid drop comment "bad"
		udp sport 53 accept
		ip saddr 10.0.0.1-10.0.0.5 accept
		log group 5
		ip protocol tcp accept
		sctp dport 80 accept
		tcp sport @ports accept
		meta l4proto != @protos drop
	}

	chain pol {
		return
	}

	chain input {
		type filter hook input priority filter - 1; policy drop;
		jump ingress
	}

	chain fw {
		type filter hook forward priority filter + 5; policy accept;
	}

	chain fw2 {
		type filter hook forward priority mangle; policy accept;
	}

	chain fw3 {
		type filter hook forward priority 100; policy accept;
	}

	chain fw4 {
		type filter hook forward priority raw; policy accept;
	}

	chain fw5 {
		type filter hook forward priority security; policy accept;
	}

	chain fw6 {
		type filter hook forward priority -100; policy accept;
	}

	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "weave" masquerade
		meta mark set 0x00000001
	}

	chain pre {
		type nat hook prerouting priority dstnat + 5; policy accept;
	}
}
table ip other {
	chain f {
		type filter hook forward priority filter; policy accept;
		ip saddr 1.1.1.1 drop
	}
})nft";

// typeof sets, a wildcard interface set, a chain comment before the hook, `dstnat - 5`.
constexpr const char* kRealTypeofAndComments = R"nft(table ip t5 {
	set ifs {
		type ifname
		flags interval
		elements = { "eth*",
			     "weave" }
	}

	set ty {
		typeof ip daddr . meta l4proto . th dport
		elements = { 1.2.3.4 . tcp . 80 }
	}

	set t2 {
		typeof ip saddr
		size 100
		flags interval
		comment "hi"
		elements = { 10.0.0.0/8 }
	}

	chain a {
		type filter hook prerouting priority dstnat; policy accept;
		iifname @ifs accept
	}

	chain b {
		type filter hook prerouting priority dstnat - 5; policy accept;
		meta mark set meta mark | 0x00004000
	}

	chain c {
		type filter hook postrouting priority srcnat; policy accept;
		log prefix "say hi" group 1
	}

	chain d {
		comment "chain comment"
		type filter hook postrouting priority srcnat + 5; policy accept;
	}

	chain e {
		type filter hook output priority -2147483648; policy accept;
	}

	chain f {
		type filter hook input priority filter; policy accept;
		ip saddr 10.1.0.0/16 accept
	}
})nft";

// Parses or fails the test.
Ruleset MustParse(const std::string& text) {
  absl::StatusOr<Ruleset> ruleset = Ruleset::Parse(text);
  INFO(ruleset.status().ToString());
  REQUIRE(ruleset.ok());
  return *ruleset;
}

// The error message Parse gives; fails the test when it parses.
std::string ParseError(const std::string& text) {
  absl::StatusOr<Ruleset> ruleset = Ruleset::Parse(text);
  REQUIRE_FALSE(ruleset.ok());
  CHECK(ruleset.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(ruleset.status().message());
}

net::Ipv4 Ip(const char* text) { return *net::Ipv4::Parse(text); }

Packet MakePacket(uint8_t protocol, const char* saddr, uint16_t sport, const char* daddr,
                  uint16_t dport) {
  Packet packet;
  packet.protocol = protocol;
  packet.saddr = Ip(saddr);
  packet.daddr = Ip(daddr);
  packet.sport = sport;
  packet.dport = dport;
  return packet;
}

constexpr uint8_t kIcmp = 1, kTcp = 6, kUdp = 17, kSctp = 132;

std::string Describe(const Outcome& outcome) {
  return absl::StrCat(outcome.fate == Fate::kAccept ? "accept" : "drop", "\n",
                      absl::StrJoin(outcome.trace, "\n"));
}

std::set<uint16_t> Groups(const Outcome& outcome) {
  return {outcome.nflog_groups.begin(), outcome.nflog_groups.end()};
}

// The probe groups a packet matches in kRealProbe.
std::set<uint16_t> ProbeGroups(const Packet& packet) {
  static const Ruleset probe = MustParse(kRealProbe);
  const Outcome outcome = probe.Evaluate("input", packet);
  CHECK(outcome.fate == Fate::kAccept);
  return Groups(outcome);
}

// ---- Parsing real output -------------------------------------------------------------------

TEST_CASE("Every real nft listing parses", "[evaluator]") {
  for (const char* text : {kRealProbe, kRealWeaveNpc, kRealTwoTables, kRealWithHandles,
                           kRealSyntaxZoo, kRealTypeofAndComments}) {
    MustParse(text);
  }
}

TEST_CASE("An empty ruleset accepts everything", "[evaluator]") {
  const Outcome outcome = MustParse("").Evaluate("forward", Packet{});
  CHECK(outcome.fate == Fate::kAccept);
  CHECK(outcome.trace.empty());
}

// ---- Matches -------------------------------------------------------------------------------

TEST_CASE("Matches on a TCP packet, each kind with == and !=", "[evaluator][match]") {
  Packet packet = MakePacket(kTcp, "10.1.2.3", 40000, "10.32.0.5", 8080);
  packet.ct_state = kCtNew;
  packet.iifname = "weave";
  packet.oifname = "eth0";
  packet.mark = 0x101;
  // 1 address, 3 CIDR, 6 != range, 7 interval set, 9 anonymous set, 11 l4proto, 13 @protos,
  // 17 tcp dport !=, 22 th dport !=, 23 port range, 24 port set, 26 sport range, 30 ct new,
  // 32 `!= established | related` (true for any single state), 33 ct set, 35 iifname,
  // 38 oifname set, 42 mark !=, 43 masked mark, 46 concatenation.
  CHECK(ProbeGroups(packet) == std::set<uint16_t>{1,  3,  6,  7,  9,  11, 13, 17, 22, 23,
                                                  24, 26, 30, 32, 33, 35, 38, 42, 43, 46});
}

TEST_CASE("Matches on a UDP packet: tcp port matches never hold, != included",
          "[evaluator][match]") {
  Packet packet = MakePacket(kUdp, "10.0.0.5", 53, "10.32.0.6", 80);
  packet.ct_state = kCtEstablished;
  packet.iifname = "vethwe-abc";
  packet.oifname = "weave";
  packet.mark = 0x1;
  // Not 17 (tcp dport != 80), 25 (tcp dport != @ports), 27 (udp sport != 53: it is 53).
  CHECK(ProbeGroups(packet) == std::set<uint16_t>{2,  3,  5,  7,  10, 12, 14, 15, 18,
                                                  21, 28, 29, 31, 32, 34, 36, 37, 38,
                                                  40, 41, 43, 45, 47, 49, 51});
}

TEST_CASE("Matches on an ICMP packet: no port match holds, not even th dport !=",
          "[evaluator][match]") {
  Packet packet = MakePacket(kIcmp, "192.168.1.1", 0, "10.33.1.1", 0);
  packet.ct_state = kCtUntracked;
  packet.iifname = "lo";
  packet.mark = 0x4000;
  // 39: "" is not in @ifs; 40: "lo" in the wildcard set; 47: a concatenation with th dport
  // fails whatever the operator.
  CHECK(ProbeGroups(packet) ==
        std::set<uint16_t>{2, 4, 6, 7, 9, 12, 14, 31, 32, 33, 36, 39, 40, 42, 44, 45, 52});
}

TEST_CASE("Matches on an SCTP packet: interval concatenation, related state",
          "[evaluator][match]") {
  Packet packet = MakePacket(kSctp, "10.9.9.9", 5000, "10.32.1.77", 1500);
  packet.ct_state = kCtRelated;
  packet.iifname = "eth1";
  packet.oifname = "vethwe-x";
  CHECK(ProbeGroups(packet) ==
        std::set<uint16_t>{2, 3, 6, 7, 10, 12, 13, 22, 29, 31, 32, 36, 39, 42, 44, 47, 48, 51});
}

TEST_CASE("A rule's matches all have to hold", "[evaluator][match]") {
  Packet packet = MakePacket(kTcp, "10.0.0.1", 1000, "10.32.0.9", 80);
  packet.ct_state = kCtNew;
  const std::set<uint16_t> groups = ProbeGroups(packet);
  for (uint16_t group : {5, 16, 21, 24, 28, 49, 50}) {
    INFO("group " << group);
    CHECK(groups.count(group) == 1);
  }
  packet.ct_state = kCtEstablished;  // 50 also needs ct state new
  CHECK(ProbeGroups(packet).count(50) == 0);
  packet.ct_state = kCtNew;
  packet.saddr = Ip("11.0.0.1");  // and a source in 10.0.0.0/8
  CHECK(ProbeGroups(packet).count(50) == 0);
}

TEST_CASE("Boundaries of CIDRs, ranges and port intervals", "[evaluator][match]") {
  const auto groups = [](const char* saddr, uint16_t dport) {
    return ProbeGroups(MakePacket(kTcp, saddr, 1, "1.1.1.1", dport));
  };
  CHECK(groups("10.0.0.0", 1).count(3) == 1);
  CHECK(groups("10.255.255.255", 1).count(3) == 1);
  CHECK(groups("11.0.0.0", 1).count(3) == 0);
  CHECK(groups("9.255.255.255", 1).count(3) == 0);
  CHECK(groups("10.0.0.1", 1).count(5) == 1);
  CHECK(groups("10.0.0.9", 1).count(5) == 1);
  CHECK(groups("10.0.0.10", 1).count(5) == 0);
  CHECK(groups("172.16.0.9", 1).count(7) == 1);  // a range element of @ips
  CHECK(groups("172.16.0.10", 1).count(7) == 0);
  CHECK(groups("192.168.1.2", 1).count(7) == 0);  // 192.168.1.1 is a single address
  CHECK(groups("1.1.1.1", 8000).count(23) == 1);
  CHECK(groups("1.1.1.1", 8999).count(24) == 1);
  CHECK(groups("1.1.1.1", 9000).count(24) == 0);
  CHECK(groups("1.1.1.1", 79).count(24) == 0);
}

TEST_CASE("ct state reads as the kernel runs what nft printed", "[evaluator][match]") {
  // Per line: a comma list tests bits; `a | b` and `== a` compare the whole state;
  // `!= a | b` is true for any single state.
  const Ruleset ruleset = MustParse(R"nft(table inet t {
	chain c {
		type filter hook input priority filter; policy accept;
		ct state established,related log group 1
		ct state established | related log group 2
		ct state == established log group 3
		ct state != established log group 4
		ct state != established | related log group 5
		ct state != established,related log group 6
		ct state established log group 7
	}
}
)nft");
  const auto groups = [&](uint32_t state) {
    Packet packet;
    packet.ct_state = state;
    return Groups(ruleset.Evaluate("input", packet));
  };
  CHECK(groups(kCtEstablished) == std::set<uint16_t>{1, 3, 5, 6, 7});
  CHECK(groups(kCtRelated) == std::set<uint16_t>{1, 4, 5, 6});
  CHECK(groups(kCtNew) == std::set<uint16_t>{4, 5, 6});
  CHECK(groups(kCtEstablished | kCtRelated) == std::set<uint16_t>{1, 2, 4, 7});
}

TEST_CASE("Anonymous sets may wrap over lines inside a rule", "[evaluator][match]") {
  const Ruleset ruleset = MustParse(R"nft(table ip t {
	chain c {
		type filter hook input priority filter; policy drop;
		ip saddr { 10.0.0.1, 10.0.0.2,
			   10.0.0.3 } tcp dport { 80,
			   443 } accept
	}
}
)nft");
  CHECK(ruleset.Evaluate("input", MakePacket(kTcp, "10.0.0.3", 1, "1.1.1.1", 443)).fate ==
        Fate::kAccept);
  CHECK(ruleset.Evaluate("input", MakePacket(kTcp, "10.0.0.4", 1, "1.1.1.1", 443)).fate ==
        Fate::kDrop);
}

TEST_CASE("Protocols parse by name and number in every position", "[evaluator][match]") {
  const Ruleset ruleset = MustParse(R"nft(table inet t {
	set p {
		type inet_proto
		elements = { 253, icmp, ipv6-icmp, 17 }
	}

	set s {
		type ipv4_addr . inet_proto . inet_service
		elements = { 10.0.0.1 . 6 . 80, 10.0.0.1 . sctp . 81 }
	}

	chain c {
		type filter hook input priority filter; policy accept;
		meta l4proto @p log group 1
		ip daddr . meta l4proto . th dport @s log group 2
		ip protocol 132 log group 3
		meta l4proto udplite th dport 5 log group 4
	}
}
)nft");
  const auto groups = [&](uint8_t protocol, uint16_t dport) {
    return Groups(ruleset.Evaluate("input", MakePacket(protocol, "1.1.1.1", 1, "10.0.0.1", dport)));
  };
  CHECK(groups(253, 0) == std::set<uint16_t>{1});
  CHECK(groups(kUdp, 80) == std::set<uint16_t>{1});
  CHECK(groups(kTcp, 80) == std::set<uint16_t>{2});
  CHECK(groups(kSctp, 81) == std::set<uint16_t>{2, 3});
  CHECK(groups(136, 5) == std::set<uint16_t>{4});
}

// ---- Verdicts and chains -------------------------------------------------------------------

TEST_CASE("The weave-npc-like table: ct state, jump, return, goto", "[evaluator][verdict]") {
  const Ruleset ruleset = MustParse(kRealWeaveNpc);
  const auto to_pod = [](uint8_t protocol, const char* saddr, const char* daddr, uint16_t dport) {
    Packet packet = MakePacket(protocol, saddr, 40000, daddr, dport);
    packet.iifname = "eth0";
    packet.oifname = "weave";
    return packet;
  };
  const auto run = [&](const Packet& packet) {
    Outcome outcome = ruleset.Evaluate("forward", packet);
    INFO(Describe(outcome));
    return outcome;
  };

  SECTION("established replies pass, invalid packets do not") {
    Packet packet = to_pod(kTcp, "8.8.8.8", "10.32.0.4", 22);
    packet.ct_state = kCtEstablished;
    CHECK(run(packet).fate == Fate::kAccept);
    packet.ct_state = kCtInvalid;
    const Outcome outcome = run(packet);
    CHECK(outcome.fate == Fate::kDrop);
    CHECK(outcome.trace ==
          std::vector<std::string>{"inet weave-npc forward rule 1: ct state invalid drop"});
  }
  SECTION("traffic not touching the bridge is accepted") {
    Packet packet = to_pod(kTcp, "8.8.8.8", "1.1.1.1", 22);
    packet.oifname = "eth1";
    CHECK(run(packet).fate == Fate::kAccept);
  }
  SECTION("blocked sources are logged to group 2 and dropped") {
    const Outcome outcome = run(to_pod(kTcp, "10.41.0.9", "10.32.0.2", 80));
    CHECK(outcome.fate == Fate::kDrop);
    CHECK(outcome.nflog_groups == std::vector<uint16_t>{2});
  }
  SECTION("the concatenation allows a pod, protocol and port") {
    CHECK(run(to_pod(kTcp, "8.8.8.8", "10.32.0.2", 80)).fate == Fate::kAccept);
    CHECK(run(to_pod(kUdp, "8.8.8.8", "10.32.0.3", 53)).fate == Fate::kAccept);
    CHECK(run(to_pod(kSctp, "8.8.8.8", "10.32.1.50", 1500)).fate == Fate::kAccept);
    const Outcome denied = run(to_pod(kUdp, "8.8.8.8", "10.32.0.2", 80));
    CHECK(denied.fate == Fate::kDrop);
    CHECK(denied.nflog_groups == std::vector<uint16_t>{1});
  }
  SECTION("set x-a with ports-80 allows, other ports of x-a are denied") {
    CHECK(run(to_pod(kTcp, "8.8.8.8", "10.32.0.4", 8500)).fate == Fate::kAccept);
    CHECK(run(to_pod(kTcp, "8.8.8.8", "10.32.0.4", 22)).fate == Fate::kDrop);
  }
  SECTION("a return from ingress resumes forward after the jump") {
    const Outcome outcome = run(to_pod(kTcp, "8.8.8.8", "10.32.0.99", 22));
    CHECK(outcome.fate == Fate::kAccept);
    CHECK(outcome.trace ==
          std::vector<std::string>{"inet weave-npc forward rule 4: oifname \"weave\" jump ingress",
                                   "inet weave-npc ingress rule 4: ip daddr != @x-a return",
                                   "inet weave-npc forward: policy accept"});
  }
  SECTION("goto egress: its return ends forward with the policy") {
    Packet packet = MakePacket(kUdp, "10.32.0.9", 40000, "10.96.0.10", 53);
    packet.iifname = "weave";
    packet.oifname = "eth0";
    CHECK(run(packet).fate == Fate::kAccept);
    packet.daddr = Ip("8.8.8.8");
    packet.saddr = Ip("10.32.0.7");
    CHECK(run(packet).fate == Fate::kDrop);
    packet.daddr = Ip("10.33.0.1");
    const Outcome outcome = run(packet);
    CHECK(outcome.fate == Fate::kAccept);
    CHECK(outcome.trace.back() == "inet weave-npc forward: policy accept");
  }
}

TEST_CASE("jump comes back, goto does not, return and falling off return", "[evaluator][verdict]") {
  const Ruleset ruleset = MustParse(R"nft(table inet t {
	chain base {
		type filter hook input priority filter; policy drop;
		jump sub
		log group 1
		goto tail
		log group 2
	}

	chain sub {
		log group 10
		return
		log group 11
	}

	chain tail {
		jump sub
		log group 20
	}
}
)nft");
  const Outcome outcome = ruleset.Evaluate("input", Packet{});
  CHECK(outcome.nflog_groups == std::vector<uint16_t>{10, 1, 10, 20});
  CHECK(outcome.fate == Fate::kDrop);
  CHECK(outcome.trace.back() == "inet t base: policy drop");
}

TEST_CASE("accept and drop in a jumped-to chain end the base chain", "[evaluator][verdict]") {
  const Ruleset ruleset = MustParse(R"nft(table inet t {
	chain base {
		type filter hook input priority filter; policy drop;
		jump sub
		log group 1
	}

	chain sub {
		tcp dport 80 accept
		tcp dport 81 drop
	}
}
)nft");
  const Outcome accepted = ruleset.Evaluate("input", MakePacket(kTcp, "1.1.1.1", 1, "2.2.2.2", 80));
  CHECK(accepted.fate == Fate::kAccept);
  CHECK(accepted.nflog_groups.empty());
  const Outcome dropped = ruleset.Evaluate("input", MakePacket(kTcp, "1.1.1.1", 1, "2.2.2.2", 81));
  CHECK(dropped.fate == Fate::kDrop);
  CHECK(dropped.nflog_groups.empty());
  const Outcome other = ruleset.Evaluate("input", MakePacket(kTcp, "1.1.1.1", 1, "2.2.2.2", 82));
  CHECK(other.fate == Fate::kDrop);  // the policy, after group 1
  CHECK(other.nflog_groups == std::vector<uint16_t>{1});
}

TEST_CASE("return in a base chain applies its policy", "[evaluator][verdict]") {
  const Ruleset ruleset = MustParse(R"nft(table ip t {
	chain base {
		type filter hook output priority filter; policy drop;
		return
		accept
	}
}
)nft");
  CHECK(ruleset.Evaluate("output", Packet{}).fate == Fate::kDrop);
}

TEST_CASE("Base chains run in priority order across tables, accept goes on, drop is final",
          "[evaluator][verdict]") {
  const Ruleset ruleset = MustParse(kRealTwoTables);
  const auto run = [&](const char* saddr) {
    return ruleset.Evaluate("forward", MakePacket(kTcp, saddr, 1, "10.1.0.1", 80));
  };
  const Outcome both = run("10.0.0.1");
  CHECK(both.fate == Fate::kAccept);
  CHECK(both.trace ==
        std::vector<std::string>{"inet first fwd-early rule 1: ip saddr 10.0.0.1 accept",
                                 "ip second main rule 1: ip saddr 10.0.0.1 accept",
                                 "inet first fwd-late: policy accept"});
  const Outcome early_drop = run("10.0.0.2");
  CHECK(early_drop.fate == Fate::kDrop);
  CHECK(early_drop.trace ==
        std::vector<std::string>{"inet first fwd-early rule 2: ip saddr 10.0.0.2 drop"});
  const Outcome late_drop = run("10.0.0.3");  // accepted by `second`, dropped later by `first`
  CHECK(late_drop.fate == Fate::kDrop);
  CHECK(late_drop.trace.size() == 3);
  CHECK(run("10.0.0.4").fate == Fate::kDrop);  // policy drop of `second`
}

TEST_CASE("Equal priorities run in order of appearance, names and offsets order",
          "[evaluator][verdict]") {
  const Outcome outcome = MustParse(kRealSyntaxZoo).Evaluate("forward", Packet{});
  CHECK(outcome.fate == Fate::kAccept);
  CHECK(outcome.trace == std::vector<std::string>{"inet weave-npc fw4: policy accept",  // raw
                                                  "inet weave-npc fw2: policy accept",  // mangle
                                                  "inet weave-npc fw6: policy accept",  // -100
                                                  "ip other f: policy accept",          // filter
                                                  "inet weave-npc fw: policy accept",  // filter + 5
                                                  "inet weave-npc fw5: policy accept",  // security
                                                  "inet weave-npc fw3: policy accept"});  // 100

  const Ruleset ties = MustParse(R"nft(table inet a {
	chain one {
		type filter hook input priority filter; policy accept;
		log group 1
	}
}
table ip b {
	chain two {
		type filter hook input priority 0; policy accept;
		log group 2
	}
}
table inet c {
	chain three {
		type filter hook input priority filter - 1; policy accept;
		log group 3
	}
}
)nft");
  CHECK(ties.Evaluate("input", Packet{}).nflog_groups == std::vector<uint16_t>{3, 1, 2});
}

TEST_CASE("The real zoo evaluates its input chain", "[evaluator][verdict]") {
  const Ruleset ruleset = MustParse(kRealSyntaxZoo);
  Packet packet = MakePacket(kTcp, "1.1.1.1", 1, "10.32.0.5", 80);
  packet.ct_state = kCtEstablished;
  const Outcome outcome = ruleset.Evaluate("input", packet);
  CHECK(outcome.fate == Fate::kAccept);
  CHECK(outcome.trace ==
        std::vector<std::string>{"inet weave-npc input rule 1: jump ingress",
                                 "inet weave-npc ingress rule 1: ip daddr @hosts ip saddr != @ips "
                                 "counter packets 0 bytes 0 jump pol",
                                 "inet weave-npc pol rule 1: return",
                                 "inet weave-npc ingress rule 2: tcp dport 80 accept"});
  // Not 80: `tcp dport != 80 drop`.
  packet.dport = 81;
  CHECK(ruleset.Evaluate("input", packet).fate == Fate::kDrop);
  // A new packet that no earlier rule takes meets `ct state != established | related drop`,
  // which holds for every single state (the pitfall the header describes).
  packet = MakePacket(50, "1.1.1.1", 0, "1.1.1.2", 0);
  packet.ct_state = kCtNew;
  const Outcome esp = ruleset.Evaluate("input", packet);
  CHECK(esp.fate == Fate::kDrop);
  CHECK(esp.trace.back() ==
        "inet weave-npc ingress rule 14: ct state != established | related drop");
  CHECK(esp.nflog_groups.empty());
}

TEST_CASE("Nat chains are not evaluated and dormant tables see nothing", "[evaluator][verdict]") {
  CHECK(MustParse(kRealTwoTables).Evaluate("postrouting", Packet{}).trace.empty());
  const Ruleset dormant = MustParse(R"nft(table inet t {
	flags dormant
	chain c {
		type filter hook input priority filter; policy drop;
	}
}
)nft");
  CHECK(dormant.Evaluate("input", Packet{}).fate == Fate::kAccept);
}

TEST_CASE("meta mark set changes the mark for later rules and base chains",
          "[evaluator][verdict]") {
  CHECK(MustParse(kRealTwoTables).Evaluate("output", Packet{}).nflog_groups ==
        std::vector<uint16_t>{7});
  const Ruleset ruleset = MustParse(kRealTypeofAndComments);
  Packet packet;
  packet.iifname = "eth3";
  // prerouting: `dstnat - 5` sets bit 0x4000 before `dstnat` accepts eth* via the wildcard set.
  const Outcome outcome = ruleset.Evaluate("prerouting", packet);
  CHECK(outcome.fate == Fate::kAccept);
  CHECK(outcome.trace ==
        std::vector<std::string>{"ip t5 b rule 1: meta mark set meta mark | 0x00004000",
                                 "ip t5 b: policy accept", "ip t5 a rule 1: iifname @ifs accept"});
}

TEST_CASE("log records groups in order, also before a match that fails", "[evaluator][verdict]") {
  const Ruleset ruleset = MustParse(R"nft(table inet t {
	chain c {
		type filter hook input priority filter; policy accept;
		log prefix "first " group 3 tcp dport 80 drop
		log level info
		log group 4 counter packets 1 bytes 2
		log prefix "again" group 3 comment "twice"
	}
}
)nft");
  const Outcome outcome = ruleset.Evaluate("input", MakePacket(kUdp, "1.1.1.1", 1, "2.2.2.2", 80));
  CHECK(outcome.fate == Fate::kAccept);
  CHECK(outcome.nflog_groups == std::vector<uint16_t>{3, 4, 3});
}

TEST_CASE("reject drops, nat statements and comments parse", "[evaluator][verdict]") {
  const Ruleset ruleset = MustParse(R"nft(table inet t {
	comment "table comment"
	set s {
		type ipv4_addr
		size 65535
		policy memory
		comment "set comment"
	}

	chain c {
		comment "chain comment"
		type filter hook input priority filter; policy accept;
		ip saddr @s accept comment "empty set"
		tcp dport 22 reject with tcp reset
		udp dport 22 reject with icmp port-unreachable
		tcp dport 23 reject
	}

	chain n {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "eth0" masquerade random
		ip daddr 10.0.0.1 dnat to 10.32.0.5:80
	}
}
)nft");
  for (uint8_t protocol : {kTcp, kUdp}) {
    CHECK(ruleset.Evaluate("input", MakePacket(protocol, "1.1.1.1", 1, "2.2.2.2", 22)).fate ==
          Fate::kDrop);
  }
  CHECK(ruleset.Evaluate("input", MakePacket(kTcp, "1.1.1.1", 1, "2.2.2.2", 23)).fate ==
        Fate::kDrop);
  CHECK(ruleset.Evaluate("input", MakePacket(kTcp, "1.1.1.1", 1, "2.2.2.2", 24)).fate ==
        Fate::kAccept);
}

TEST_CASE("Handles printed by nft -a are comments", "[evaluator]") {
  const Outcome outcome = MustParse(kRealWithHandles)
                              .Evaluate("forward", MakePacket(kTcp, "10.0.0.3", 1, "2.2.2.2", 2));
  CHECK(outcome.fate == Fate::kDrop);
  CHECK(outcome.trace.back() == "inet first fwd-late rule 1: ip saddr 10.0.0.3 drop");
}

TEST_CASE("Hand-written one-line chains with semicolons parse as nft -f reads them", "[evaluator]") {
  const Ruleset ruleset = MustParse(
      "table ip t { set s { type inet_service; flags interval; elements = { 80-90 } }\n"
      "  chain c { type filter hook input priority 0; policy drop; tcp dport @s accept; } }\n");
  CHECK(ruleset.Evaluate("input", MakePacket(kTcp, "1.1.1.1", 1, "2.2.2.2", 85)).fate ==
        Fate::kAccept);
  CHECK(ruleset.Evaluate("input", MakePacket(kTcp, "1.1.1.1", 1, "2.2.2.2", 91)).fate ==
        Fate::kDrop);
}

// ---- Loops ---------------------------------------------------------------------------------

// A table whose base chain jumps through `depth` chains, the last accepting.
std::string JumpChain(int depth) {
  std::string text =
      "table inet t {\n chain base {\n  type filter hook input priority 0; policy drop;\n"
      "  jump c1\n }\n";
  for (int i = 1; i <= depth; ++i) {
    absl::StrAppend(&text, " chain c", i, " {\n  ",
                    i < depth ? absl::StrCat("jump c", i + 1) : std::string("accept"), "\n }\n");
  }
  return text + "}\n";
}

TEST_CASE("Sixteen nested jumps work, seventeen drop with a trace", "[evaluator][loop]") {
  CHECK(MustParse(JumpChain(16)).Evaluate("input", Packet{}).fate == Fate::kAccept);
  const Outcome outcome = MustParse(JumpChain(17)).Evaluate("input", Packet{});
  CHECK(outcome.fate == Fate::kDrop);
  CHECK(outcome.trace.back() == "inet t c16 rule 1: more than 16 nested jumps, dropping");
}

// A base chain entering chain a, where a and b enter each other with `verb` (jump or goto).
std::string LoopTable(const std::string& verb) {
  return absl::StrCat(
      "table inet t {\n"
      "\tchain base {\n\t\ttype filter hook input priority filter; policy accept;\n\t\t",
      verb, " a\n\t}\n",                       //
      "\tchain a {\n\t\t", verb, " b\n\t}\n",  //
      "\tchain b {\n\t\t", verb, " a\n\t}\n}\n");
}

TEST_CASE("Jump and goto loops end in a drop", "[evaluator][loop]") {
  const Outcome jumps = MustParse(LoopTable("jump")).Evaluate("input", Packet{});
  CHECK(jumps.fate == Fate::kDrop);
  CHECK(jumps.trace.back() == "inet t b rule 1: more than 16 nested jumps, dropping");

  const Outcome gotos = MustParse(LoopTable("goto")).Evaluate("input", Packet{});
  CHECK(gotos.fate == Fate::kDrop);
  CHECK(absl::StrContains(gotos.trace.back(), "more than 100000 rules run, dropping"));
}

// ---- Errors --------------------------------------------------------------------------------

// A one-chain table around `rule`, which is on line 4.
std::string WithRule(const std::string& rule) {
  return absl::StrCat(
      "table inet t {\n"
      "\tset ips {\n\t\ttype ipv4_addr\n\t}\n"
      "\tchain c {\n"
      "\t\ttype filter hook input priority filter; policy accept;\n"
      "\t\t",
      rule,
      "\n"
      "\t}\n"
      "\tchain other {\n\t}\n"
      "}\n");
}

TEST_CASE("Errors name the line and what was not understood", "[evaluator][error]") {
  CHECK(ParseError(WithRule("ip saddr 10.0.0.1 frobnicate")) ==
        "line 7: unknown statement 'frobnicate'");
  CHECK(ParseError(WithRule("ip saddr @missing accept")) == "line 7: no set 'missing' in table t");
  CHECK(ParseError(WithRule("jump nowhere")) == "line 7: no chain 'nowhere' in table t");
  CHECK(ParseError(WithRule("goto c")) == "line 7: cannot jump to base chain 'c'");
  CHECK(ParseError(WithRule("ip saddr 10.0.0.256 accept")) ==
        "line 7: '10.0.0.256' is not a valid ipv4_addr");
  CHECK(ParseError(WithRule("ip saddr 10.0.0.0/33 accept")) ==
        "line 7: '10.0.0.0/33' is not a valid ipv4_addr");
  CHECK(ParseError(WithRule("tcp dport 70000 accept")) ==
        "line 7: '70000' is not a valid inet_service");
  CHECK(ParseError(WithRule("tcp dport 90-80 accept")) == "line 7: empty range '90-80'");
  CHECK(ParseError(WithRule("tcp dport @ips accept")) ==
        "line 7: set 'ips' holds ipv4_addr, the match needs inet_service");
  CHECK(ParseError(WithRule("fib daddr type local accept")) == "line 7: unknown statement 'fib'");
  CHECK(ParseError(WithRule("accept counter")) == "line 7: statement after the verdict: 'counter'");
  CHECK(ParseError(WithRule("comment \"x\" accept")) == "line 7: unexpected 'accept'");
  CHECK(ParseError(WithRule("ct state vmap { established : accept }")) ==
        "line 7: maps and verdict maps are not supported");
  CHECK(ParseError(WithRule("meta mark set ct mark")) == "line 7: 'ct' is not a valid mark");
  CHECK(ParseError(WithRule("iifname weave accept")) ==
        "line 7: expected a quoted interface name, got 'weave'");
  CHECK(ParseError(WithRule("log prefix \"unterminated")) == "line 7: unterminated string");
  CHECK(ParseError(WithRule("ip saddr . tcp sport . bogus @ips")) ==
        "line 7: expected a field after '.', got 'bogus'");
  CHECK(ParseError(WithRule("ip saddr . tcp dport @ips")) ==
        "line 7: set 'ips' holds ipv4_addr, the match needs ipv4_addr . inet_service");
}

TEST_CASE("Errors in sets, chains and tables", "[evaluator][error]") {
  CHECK(ParseError("table ip6 t {\n}\n") == "line 1: unsupported family 'ip6'");
  CHECK(ParseError("table inet t {\n\tchain c {\n") == "line 2: chain c is not closed");
  CHECK(ParseError("table inet t {\n\tmap m {\n\t}\n}\n") == "line 2: maps are not supported");
  CHECK(ParseError(
            "table inet t {\n\tchain c {\n\t\ttype filter hook ingress priority 0;\n\t}\n}\n") ==
        "line 3: unsupported hook 'ingress'");
  CHECK(ParseError("table inet t {\n\tchain c {\n\t\ttype filter hook input priority bogus;\n"
                   "\t}\n}\n") == "line 3: expected a number, got 'bogus'");
  CHECK(ParseError("table inet t {\n\tchain c {\n\t\tpolicy drop;\n\t}\n}\n") ==
        "line 3: policy in a chain that is not a base chain");
  CHECK(ParseError("table inet t {\n\tset s {\n\t\ttype ipv4_addr\n\t\telements = { 10.0.0.1,\n"
                   "\t\t\t     10.0.0.0/8 }\n\t}\n}\n") ==
        "line 5: range '10.0.0.0/8' in a set without 'flags interval'");
  CHECK(ParseError("table inet t {\n\tset s {\n\t\ttype ifname\n\t\telements = { \"eth*\" }\n"
                   "\t}\n}\n") == "line 4: range \"eth*\" in a set without 'flags interval'");
  CHECK(ParseError("table inet t {\n\tset s {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
                   "\t\telements = { 10.0.0.1, 10.0.0.300 }\n\t}\n}\n") ==
        "line 5: '10.0.0.300' is not a valid ipv4_addr");
  CHECK(ParseError("table inet t {\n\tset s {\n\t\ttype ipv6_addr\n\t}\n}\n") ==
        "line 3: unsupported set type 'ipv6_addr'");
  CHECK(ParseError("table inet t {\n\tset s {\n\t\tflags interval\n\t}\n}\n") ==
        "line 2: set s has no type");
  CHECK(ParseError("table inet t {\n\tset s {\n\t\ttype ipv4_addr . inet_service\n"
                   "\t\telements = { 10.0.0.1 . 80 . 81 }\n\t}\n}\n") ==
        "line 4: expected ',' or '}', got '.'");
}

TEST_CASE("Constructs of real listings that are not supported are errors", "[evaluator][error]") {
  // `nft list table` of `ct state & (new | established) == new` and a verdict map.
  CHECK(ParseError(R"nft(table inet t2 {
	chain c {
		ct state new / established,new accept
	}
}
)nft") == "line 3: unknown statement '/'");
  CHECK(ParseError(R"nft(table inet t4 {
	chain c {
		ct state vmap { invalid : drop, established : accept, related : accept }
	}
}
)nft") == "line 3: maps and verdict maps are not supported");
}

}  // namespace
}  // namespace weave::npc::conformance
