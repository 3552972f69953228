// An nftables interpreter for conformance tests: it reads tables in the text form that
// `nft list table` / `nft list ruleset` print and decides what happens to one IPv4 packet.
//
// It is written from nftables semantics (nft(8), the kernel's nft_do_chain and what nft 1.0.6
// prints and compiles on Debian 12), deliberately sharing no code with npc/compiler/ or
// common/nft/, so that a mistake there shows up as a disagreement here instead of being
// repeated. For the same reason the parser rejects anything it does not understand, naming the
// line: a rule it misread would hide exactly the bugs it exists to find.
//
// Semantics worth knowing (all as the kernel does it, checked against nft 1.0.6):
//  - `tcp|udp|sctp|udplite|dccp sport|dport` imply their protocol, for `!=` too: a UDP packet
//    never matches `tcp dport != 80`. `th sport|dport` match any of those protocols; other
//    protocols (icmp...) never match, not even with `!=` (the kernel would read whatever bytes
//    lie there; a Packet has no such bytes).
//  - `ct state` follows nft's bitmask rules, which are not what they look like:
//      `ct state a,b` / `ct state a`   (state & (a|b)) != 0
//      `ct state a | b` / `== a,b`     state == (a|b)        (never true for a real packet)
//      `ct state != a,b` / `!= a | b`  state != (a|b)        (true for every real packet)
//      `ct state != a`                 state != a
//      `ct state { a, b }`             state is a or b (set membership)
//    nft prints `== a,b` as `a | b` but reads `a | b` back as `a,b`; this reads printed text
//    as what the kernel runs, i.e. `a | b` compares.
//  - `iifname "eth*"` is a prefix match, in a set too.
//  - A CIDR, range or wildcard in a named set without `flags interval` is a parse error, as
//    nft reports it.
//  - `meta mark set ...` changes the mark seen by later rules and base chains of the hook.
//  - `reject` ends evaluation like `drop`; `masquerade`/`snat`/`dnat`/`redirect` end it like
//    `accept` (they only appear in nat chains, which are parsed but never evaluated).
//  - A table with `flags dormant` sees no packets.
//
// Only tables of family inet and ip are accepted (an ip6/arp/bridge/netdev table is an error),
// as are only sets (no maps or verdict maps) and the matches listed in evaluator.cc.
//
// Thread-safety: a Ruleset is immutable after Parse; copies share its parsed form and may be
// evaluated concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/net/ip.h"

namespace weave::npc::conformance {

// Conntrack state bits as the kernel reports them to `ct state`.
inline constexpr uint32_t kCtInvalid = 1;
inline constexpr uint32_t kCtEstablished = 2;
inline constexpr uint32_t kCtRelated = 4;
inline constexpr uint32_t kCtNew = 8;
inline constexpr uint32_t kCtUntracked = 64;

// The parts of an IPv4 packet (and its metadata) that rules can look at. The caller fills in
// what the hook would see: on `output` and `postrouting` the kernel has no input interface and
// `iifname` reads as "", on `prerouting` and `input` `oifname` reads as "".
struct Packet {
  net::Ipv4 saddr, daddr;
  uint8_t protocol = 6;  // IP protocol number: 6 tcp, 17 udp, 132 sctp, 1 icmp
  uint16_t sport = 0, dport = 0;
  uint32_t ct_state = kCtNew;
  std::string iifname, oifname;
  uint32_t mark = 0;
};

enum class Fate { kAccept, kDrop };

struct Outcome {
  Fate fate = Fate::kAccept;
  // The group of every `log ... group N` statement executed, in order.
  std::vector<uint16_t> nflog_groups;
  // For failure messages, one line per rule whose matches all held, per policy applied and per
  // evaluation error, e.g. "inet weave-npc ingress rule 3: ip daddr @x jump y" (rules are
  // numbered from 1 within their chain).
  std::vector<std::string> trace;
};

class Ruleset {
 public:
  // Parses one or more tables as `nft list table`/`nft list ruleset` print them (also the
  // hand-written `nft -f` forms with `;` separators on one line). Any construct not understood,
  // a reference to a missing set or chain, a value that does not fit its type or a set whose
  // type does not fit its match is InvalidArgument "line N: ...".
  static absl::StatusOr<Ruleset> Parse(absl::string_view text);

  // Runs `packet` through every base chain of type filter registered on `hook` ("prerouting",
  // "input", "forward", "output", "postrouting") in every table, lowest priority first (ties in
  // order of appearance). `accept` ends one base chain only and the packet goes on to the next;
  // `drop` ends everything. More than 16 nested jumps (a loop the kernel would have refused)
  // drops the packet with a trace line saying so. An unknown hook name aborts: it is a bug in
  // the caller, not input.
  Outcome Evaluate(absl::string_view hook, const Packet& packet) const;

 private:
  struct Parsed;
  explicit Ruleset(std::shared_ptr<const Parsed> parsed) : parsed_(std::move(parsed)) {}

  std::shared_ptr<const Parsed> parsed_;
};

}  // namespace weave::npc::conformance
