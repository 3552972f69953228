// Tables shared by the nft tests (unit and kernel), shaped like what the router and weave-npc
// build: a nat postrouting chain that masquerades, a filter forward chain with sets and a jump.
#pragma once

#include <string>
#include <vector>

#include "common/net/ip.h"
#include "common/nft/ruleset.h"

namespace weave::nft::testdata {

inline net::Cidr Net(const char* text) { return *net::Cidr::Parse(text); }

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
      }};
}

}  // namespace weave::nft::testdata
