// Tables shared by the nft tests (unit and kernel), shaped like what the router and weave-npc
// build: a nat postrouting chain that masquerades, a filter forward chain with sets and a jump,
// and a sequence of policy tables for the planner.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "common/net/ip.h"
#include "common/nft/ruleset.h"
#include "common/nft/transaction.h"

namespace weave::nft::testdata {

inline net::Cidr Net(const char* text) { return *net::Cidr::Parse(text); }
inline net::Ipv4 Addr(const char* text) { return *net::Ipv4::Parse(text); }

// The router's table: masquerading and the policy gate.
inline Table RouterTable(const std::string& name = "weave") {
  return Table{
      Family::kInet,
      name,
      {
          Chain{"postrouting",
                BaseChain{ChainType::kNat, Hook::kPostrouting, 100, Policy::kAccept},
                {
                    Rule{{InSet(Field::kIpSaddr, "pod-ranges"),
                          NotInSet(Field::kIpDaddr, "pod-ranges"), Masquerade{}}},
                    Rule{{NotInSet(Field::kIpSaddr, "pod-ranges"),
                          Is(Field::kOifname, Ifname{"weave"}), Masquerade{/*fully_random=*/true}},
                         "traffic into the bridge from outside"},
                }},
          Chain{"forward",
                BaseChain{ChainType::kFilter, Hook::kForward, 0, Policy::kAccept},
                {
                    Rule{{Is(Field::kOifname, Ifname{"weave"}),
                          Is(Field::kCtState, CtStates{kCtEstablished | kCtRelated}), Accept()}},
                    Rule{{Is(Field::kOifname, Ifname{"weave"}), Jump("npc-gate")}},
                }},
          Chain{"npc-gate",
                std::nullopt,
                {
                    Rule{{InSet(Field::kIifname, "npc-ready"), Return()}},
                    Rule{{Is(Field::kCtState, CtStates{kCtNew}), Counter{}, Log{"weave-gate: ", 86},
                          Drop()}},
                }},
      },
      {
          Set{"pod-ranges", SetKeyType::kIpv4Addr, true, false, {Net("10.32.0.0/12")}},
          Set{"npc-ready", SetKeyType::kIfname, false, false, {}},
      }};
}

// What `nft list table inet weave` prints for RouterTable() (checked against the real nft by
// linux_backend_test).
inline constexpr char kRouterTableText[] = R"(table inet weave {
	set pod-ranges {
		type ipv4_addr
		flags interval
		elements = { 10.32.0.0/12 }
	}

	set npc-ready {
		type ifname
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr @pod-ranges ip daddr != @pod-ranges masquerade
		ip saddr != @pod-ranges oifname "weave" masquerade fully-random comment "traffic into the bridge from outside"
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname "weave" ct state established,related accept
		oifname "weave" jump npc-gate
	}

	chain npc-gate {
		iifname @npc-ready return
		ct state new counter packets 0 bytes 0 log prefix "weave-gate: " group 86 drop
	}
}
)";

// A policy table with every kind of statement and set the model has, in normalized form.
inline Table PolicyTable(const std::string& name = "weave-npc") {
  return Table{
      Family::kInet,
      name,
      {
          Chain{"ingress",
                BaseChain{ChainType::kFilter, Hook::kForward, -5, Policy::kAccept},
                {
                    Rule{{Is(Field::kCtState, CtStates{kCtEstablished | kCtRelated}), Accept()}},
                    Rule{{Is(Field::kCtState, CtStates{kCtInvalid}), Drop()}},
                    Rule{{IsNot(Field::kCtState, CtStates{kCtNew}), Return()}},
                    Rule{{Is(Field::kIifname, Ifname{"vethwe*"}), Goto("pods")}},
                    Rule{{Is(Field::kFibDaddrType, AddrType::kLocal), Accept()}},
                    Rule{{Is(Field::kIpDaddr, Net("224.0.0.0/4")), Accept()}},
                    Rule{{Is(Field::kMark, MaskedMark{0x4000, 0x4000}), Accept()}},
                }},
          Chain{"pods",
                std::nullopt,
                {
                    Rule{{InSet(Field::kIpSaddr, "allowed-sources"),
                          InSet(Field::kTcpDport, "web-ports"), Accept()},
                         "policy default/web"},
                    Rule{{Is(Field::kIpSaddr, Net("10.32.1.0/24")), Is(Field::kUdpDport, Port(53)),
                          Accept()}},
                    Rule{{Is(Field::kIpSaddr, Net("10.32.0.7/32")),
                          IsNot(Field::kSctpDport, PortRange{1000, 2000}), Accept()}},
                    Rule{{Is(Field::kL4Proto, kTcp), Is(Field::kIpDaddr, Net("10.40.0.0/13")),
                          Is(Field::kTcpDport, PortRange{8000, 8080}), Accept()}},
                    Rule{{InSet(Field::kL4Proto, "protocols"), Is(Field::kThDport, Port(9999)),
                          Accept()}},
                    Rule{{InSet(Field::kMark, "marks"), SetMark{0x10}}},
                    Rule{{NotInSet(Field::kOifname, "bridges"), SetMark{0x4000, true}}},
                    Rule{{InSet(Field::kIpDaddrL4ProtoThDport, "named-ports"), Accept()}},
                    Rule{{Counter{}, Log{"", 86}, Drop()}},
                }},
      },
      {
          Set{"allowed-sources",
              SetKeyType::kIpv4Addr,
              true,
              false,
              {Net("10.32.0.5/32"), Net("10.32.0.6/32"), Net("10.33.0.0/16"), Net("10.34.0.0/28"),
               Net("192.168.0.0/16")}},
          Set{"web-ports",
              SetKeyType::kInetService,
              true,
              false,
              {Port(80), Port(443), PortRange{8000, 8100}}},
          Set{"protocols", SetKeyType::kInetProto, false, false, {kTcp, kUdp}},
          Set{"marks", SetKeyType::kMark, false, true, {Mark{0x1}}},
          Set{"bridges", SetKeyType::kIfname, false, false, {Ifname{"weave"}}},
          Set{"pod-ips", SetKeyType::kIpv4Addr, false, false, {Net("10.32.0.2/32")}},
          Set{"named-ports",
              SetKeyType::kIpv4AddrProtoService,
              false,
              false,
              {AddrProtoPort{Addr("10.32.0.5"), kTcp, 8080},
               AddrProtoPort{Addr("10.32.0.6"), kUdp, 53}}},
      }};
}

// Whether the transaction replaces a whole table (rather than changing parts of it).
inline bool ReplacesTable(const Transaction& transaction) {
  return std::any_of(
      transaction.operations.begin(), transaction.operations.end(),
      [](const Operation& operation) { return std::holds_alternative<ReplaceTable>(operation); });
}

// One table of a sequence, and what changed since the one before.
struct TableStep {
  std::string what;
  Table table;
};

// Policy tables one after another as weave-npc's syncs produce them: sets and regular chains come
// and go, elements and rules change, while the base chain stays. Plan turns every step after the
// first into finer operations than a ReplaceTable.
inline std::vector<TableStep> PolicyChanges() {
  std::vector<TableStep> steps;
  Table table = PolicyTable();
  const auto step = [&](std::string what) { steps.push_back({std::move(what), table}); };
  const auto pods = [&]() -> std::vector<Rule>& { return table.FindChain("pods")->rules; };
  step("the policy table");

  table.sets.push_back(
      Set{"np-1-sources", SetKeyType::kIpv4Addr, true, false, {Net("10.36.0.0/14")}});
  table.chains.push_back(Chain{
      "np-1-ingress", std::nullopt, {Rule{{InSet(Field::kIpSaddr, "np-1-sources"), Accept()}}}});
  pods().insert(pods().begin(), Rule{{Jump("np-1-ingress")}});
  step("a policy's chain and set added");

  table.FindSet("allowed-sources")->elements[2] = Net("10.33.0.0/17");
  table.FindSet("np-1-sources")->elements = {Net("10.36.0.0/15"), Net("10.38.0.0/15")};
  table.FindSet("named-ports")->elements = {AddrProtoPort{Addr("10.32.0.5"), kTcp, 8080},
                                            AddrProtoPort{Addr("10.32.0.7"), kTcp, 443}};
  table.FindChain("np-1-ingress")->rules = {
      Rule{{InSet(Field::kIpSaddr, "np-1-sources"), Is(Field::kTcpDport, Port(80)), Accept()}}};
  table.sets.push_back(Set{"np-2-ports", SetKeyType::kInetService, false, false, {Port(53)}});
  table.chains.push_back(Chain{
      "np-2-ingress", std::nullopt, {Rule{{InSet(Field::kUdpDport, "np-2-ports"), Accept()}}}});
  pods().insert(pods().begin() + 1, Rule{{Jump("np-2-ingress")}});
  step("elements, rules, a chain and a set changed together");

  table.FindSet("np-1-sources")->name = "np-3-sources";
  Chain& renamed = *table.FindChain("np-1-ingress");
  renamed.name = "np-3-ingress";
  renamed.rules = {
      Rule{{InSet(Field::kIpSaddr, "np-3-sources"), Is(Field::kTcpDport, Port(80)), Accept()}}};
  pods()[0] = Rule{{Jump("np-3-ingress")}};
  step("a policy renamed");

  for (const char* name : {"chain-a", "chain-b", "chain-c"}) {
    table.chains.push_back(Chain{name, std::nullopt, {}});
  }
  table.FindChain("chain-a")->rules = {Rule{{Jump("chain-b")}}, Rule{{Goto("chain-c")}}};
  table.FindChain("chain-b")->rules = {Rule{{Jump("chain-c")}}};
  table.FindChain("chain-c")->rules = {Rule{{Is(Field::kMark, Mark{1}), Drop()}}};
  pods().insert(pods().begin(), Rule{{Jump("chain-a")}});
  step("chains that jump to each other added");

  for (const char* name : {"chain-a", "chain-b", "chain-c"}) {
    table.chains.erase(std::find_if(table.chains.begin(), table.chains.end(),
                                    [&](const Chain& chain) { return chain.name == name; }));
  }
  pods().erase(pods().begin());
  step("chains that jump to each other removed together");

  table.chains.push_back(Chain{"chain-x", std::nullopt, {Rule{{Jump("chain-y")}}}});
  table.chains.push_back(Chain{"chain-y", std::nullopt, {Rule{{Return()}}}});
  pods().insert(pods().begin(), Rule{{Jump("chain-x")}});
  step("one chain jumping to another");

  table.FindChain("chain-x")->rules = {Rule{{Return()}}};
  table.FindChain("chain-y")->rules = {Rule{{Jump("chain-x")}}};
  pods()[0] = Rule{{Jump("chain-y")}};
  step("the jump turned around");

  table = PolicyTable();
  step("back to the policy table");
  return steps;
}

}  // namespace weave::nft::testdata
