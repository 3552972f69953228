// weave-npc's blocked-connection log.
//
// The rules weave-npc compiles drop what NetworkPolicy denies with
//
//   log prefix "weave-npc ingress: " group 86 drop      (or "weave-npc egress: ")
//
// so the kernel hands a copy of the head of every dropped packet to NFLOG group 86. The kernel
// adapter common/netlink/nflog.h reads those copies; BlockedConnectionLog::RecordIpv4 parses each
// into a BlockedPacket, counts it (weavenpc_blocked_connections_total) and logs it in the original
// Weave Net's line, rate-limited:
//
//   TCP connection from 10.32.0.7:56648 to 10.32.0.11:80 blocked by Weave NPC.
//
// Everything here is pure (values, an injected clock) and unit-tested. The namespace
// weave::npc::nflog keeps these names (Protocol, Direction) apart from the model's.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/metrics/exposition.h"
#include "common/net/ip.h"

namespace weave::npc::nflog {

// ---------------------------------------------------------------------------------------------
// Values

// The IP protocol number of a packet (IPPROTO_*). Any number 0..255 is a valid value; the
// enumerators are the ones we name.
enum class Protocol : uint8_t { kIcmp = 1, kTcp = 6, kUdp = 17, kSctp = 132 };

// "tcp", "udp", "sctp", "icmp"; other protocols as their decimal number ("47"). The value of the
// metric's protocol label.
std::string ProtocolName(Protocol protocol);

// Which rule dropped the packet, as its log prefix says: weave-npc's ingress or egress rules, or
// the router's gate for new pods (which logs to the same group, see router/net/masquerade.h).
enum class Direction { kUnknown, kIngress, kEgress, kGate };

// kIngress for a prefix containing "ingress" ("weave-npc ingress: "), kEgress for one containing
// "egress" (and not "ingress"), kGate for the router's "weave-gate: ", kUnknown otherwise.
Direction DirectionOfPrefix(absl::string_view prefix);

// The head of a dropped IPv4 packet, as far as the log needs it.
struct BlockedPacket {
  Protocol protocol = Protocol::kTcp;
  net::Ipv4 saddr;
  net::Ipv4 daddr;
  // Ports are known for TCP, UDP and SCTP, except in a fragment other than the first; otherwise
  // has_ports is false and both are 0.
  bool has_ports = false;
  uint16_t sport = 0;
  uint16_t dport = 0;
  std::string prefix;  // the rule's log prefix, e.g. "weave-npc ingress: "

  friend bool operator==(const BlockedPacket&, const BlockedPacket&) = default;
};

// Parses an IPv4 packet (from its IP header on, possibly cut short after the transport header, as
// NFLOG's copy range cuts it). Reads the header length (IP options are skipped), the protocol and,
// for TCP, UDP and SCTP, the ports.
//
// Never reads outside `packet`. Anything that is not such a packet is InvalidArgument with a
// one-line reason: "IPv4 packet truncated: 12 bytes, the IP header needs 20", "not IPv4: IP
// version 6", "IPv4 header length 12 is below the minimum of 20", "TCP header truncated: 2 of the
// 4 bytes of its ports"... A total-length field of 0 (BIG TCP's packets over 64 KiB) is accepted;
// one shorter than the header is not.
absl::StatusOr<BlockedPacket> ParseIpv4Packet(absl::Span<const uint8_t> packet, std::string prefix);

// Looks up the pod that has an address: "namespace/name", or "" when it is no pod we know.
// Called from the thread that logs; must be thread-safe.
using PodLookup = std::function<std::string(net::Ipv4)>;
// The policies ("namespace/name", in order) that select pod `pod` ("namespace/name") for
// `direction` (kIngress or kEgress): the ones whose rules did not allow a packet it dropped.
// Called from the thread that logs; must be thread-safe.
using PolicyLookup =
    std::function<std::vector<std::string>(const std::string& pod, Direction direction)>;

// What the log knows of pods and policies; either may be empty.
struct Lookups {
  PodLookup pod;
  PolicyLookup policies;
};

// The log line of a blocked packet. First, always and word for word, the original sentence:
//
//   TCP connection from 10.32.0.7:56648 to 10.32.0.11:80 blocked by Weave NPC.
//   UDP connection from ...                               SCTP connection from ...
//
// Without ports (ICMP, other protocols, non-first fragments) the addresses stand alone, and a
// protocol we do not name is "IP protocol <number>":
//
//   ICMP connection from 10.32.0.7 to 10.32.0.11 blocked by Weave NPC.
//   IP protocol 47 connection from 10.32.0.7 to 10.32.0.11 blocked by Weave NPC.
//
// Then, only when the pod lookup names a pod at either end, a parenthesis with the direction
// (when the prefix tells it), the pods that are known and, for a pod weave-npc's rules isolate,
// the policies whose rules did not allow the packet (the reason users asked for, weave#3839):
//
//   ... blocked by Weave NPC. (ingress from pod default/client to pod shop/server; not allowed
//       by the ingress rules of shop/allow-web, shop/deny-all)       [one line]
//   ... blocked by Weave NPC. (egress from pod default/client; not allowed by the egress rules
//       of default/a, default/b, default/c and 2 more)               [one line]
//   ... blocked by Weave NPC. (to pod default/server)
//   ... blocked by Weave NPC. (new pod held at the router's gate until weave-npc applies its
//       policy: from pod default/client to pod shop/server)          [one line]
//
// So without pod names (no lookup, or addresses outside the cluster) the line is exactly Weave
// Net's, and tools that matched it keep working.
std::string FormatBlockedLine(const BlockedPacket& packet, const Lookups& lookups = {});

// "... and 57 more blocked connections not logged" ("connection" for 1): the line that stands
// for lines the rate limit held back, logged after the last line that was.
std::string SuppressedLine(uint64_t suppressed);

// ---------------------------------------------------------------------------------------------
// Rate limiting

// A token bucket: `per_second` tokens a second, at most `burst` kept; starts full. Exact (the
// credit is kept as a duration, not a float). A clock that goes backwards adds nothing.
// per_second <= 0 means no refill (only the initial burst); burst < 1 lets nothing through.
// Not thread-safe: a value owned by one user.
class TokenBucket {
 public:
  TokenBucket(double per_second, int burst);

  // Takes a token at `now` if there is one.
  bool TryTake(absl::Time now);

 private:
  bool refills_;
  absl::Duration interval_;  // time to earn one token (a nominal second without refill)
  absl::Duration capacity_;  // `burst` tokens' worth
  absl::Duration credit_;    // tokens held, as the time it took to earn them
  absl::Time last_ = absl::InfinitePast();
};

// ---------------------------------------------------------------------------------------------
// Counting

// One series of weavenpc_blocked_connections_total.
struct BlockedCount {
  std::string protocol;  // ProtocolName(): "tcp", "icmp", "47"
  std::string dport;     // "80"; "" without ports; "other" once the label sets are used up
  uint64_t count = 0;

  friend bool operator==(const BlockedCount&, const BlockedCount&) = default;
};

// Blocked packets counted by (protocol, destination port). Memory is bounded whatever the traffic:
// after `max_label_sets` distinct pairs, a packet of a new pair counts under (protocol, "other");
// those overflow series are not limited, but there are at most 256 of them (one per protocol).
// Thread-safe.
class BlockedConnectionCounters {
 public:
  static constexpr size_t kDefaultMaxLabelSets = 1000;

  explicit BlockedConnectionCounters(size_t max_label_sets = kDefaultMaxLabelSets)
      : max_label_sets_(max_label_sets) {}

  void Add(const BlockedPacket& packet);

  // Every series, ordered by protocol then dport (as strings).
  std::vector<BlockedCount> Snapshot() const;

 private:
  const size_t max_label_sets_;
  mutable absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, uint64_t> counts_ ABSL_GUARDED_BY(mu_);
  size_t label_sets_ ABSL_GUARDED_BY(mu_) = 0;  // series other than the "other" ones
};

// The counter family `weavenpc_blocked_connections_total{protocol="tcp",dport="80"}`.
metrics::Family BlockedConnectionsFamily(const std::vector<BlockedCount>& counts);

// ---------------------------------------------------------------------------------------------
// The log

// Counts every blocked packet and logs its line through `sink`, at most `lines_per_second`
// (burst `burst`). Lines held back are counted and reported in one SuppressedLine, written just
// before the next line that is logged or by Flush, whichever comes first. So the output is at
// most the rate's lines plus one summary per logged line or Flush.
//
// `clock` and `sink` are the seams (the daemon passes absl::Now and spdlog). Thread-safe:
// Record may run on the reader's thread while Flush and Counters run elsewhere. The lookups and
// `sink` are called without a lock held, and may be called from several threads.
class BlockedConnectionLog {
 public:
  struct Options {
    double lines_per_second = 10;
    int burst = 20;
  };
  using Sink = std::function<void(const std::string& line)>;
  using Clock = std::function<absl::Time()>;

  BlockedConnectionLog(Options options, Lookups lookups, Clock clock, Sink sink,
                       size_t max_label_sets = BlockedConnectionCounters::kDefaultMaxLabelSets);

  // Counts `packet` (always) and logs its line (unless the rate limit holds it back).
  void Record(const BlockedPacket& packet);

  // Records the IPv4 packet `packet` (from its IP header on, as NFLOG copies it) that the rule
  // with log prefix `prefix` dropped. A packet ParseIpv4Packet cannot read is its InvalidArgument
  // and is neither counted nor logged: the NFLOG reader, whose handler this is, counts it as
  // malformed.
  absl::Status RecordIpv4(absl::Span<const uint8_t> packet, std::string prefix);

  // Logs the SuppressedLine of lines held back since the last line logged, if any. Call it
  // periodically (every few seconds) so that the count of a burst that ended is not lost.
  void Flush();

  const BlockedConnectionCounters& counters() const { return counters_; }

 private:
  const Lookups lookups_;
  const Clock clock_;
  const Sink sink_;
  BlockedConnectionCounters counters_;
  absl::Mutex mu_;
  TokenBucket bucket_ ABSL_GUARDED_BY(mu_);
  uint64_t suppressed_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace weave::npc::nflog
