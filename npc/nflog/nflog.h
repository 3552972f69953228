// weave-npc's blocked-connection log.
//
// The rules weave-npc compiles drop what NetworkPolicy denies with
//
//   log prefix "weave-npc ingress: " group 86 drop      (or "weave-npc egress: ")
//
// so the kernel hands a copy of the head of every dropped packet to NFLOG group 86. NflogReader
// reads those copies through nfnetlink_log and turns each into a BlockedPacket;
// BlockedConnectionLog counts it (weavenpc_blocked_connections_total) and logs it in the original
// Weave Net's line, rate-limited:
//
//   TCP connection from 10.32.0.7:56648 to 10.32.0.11:80 blocked by Weave NPC.
//
// Everything but NflogReader is pure (values, an injected clock) and unit-tested; NflogReader is
// the adapter, tested in a network namespace of its own. The namespace weave::npc::nflog keeps
// these names (Protocol, Direction) apart from the model's.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
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

struct mnl_socket;

namespace weave::npc::nflog {

// ---------------------------------------------------------------------------------------------
// Values

// The IP protocol number of a packet (IPPROTO_*). Any number 0..255 is a valid value; the
// enumerators are the ones we name.
enum class Protocol : uint8_t { kIcmp = 1, kTcp = 6, kUdp = 17, kSctp = 132 };

// "tcp", "udp", "sctp", "icmp"; other protocols as their decimal number ("47"). The value of the
// metric's protocol label.
std::string ProtocolName(Protocol protocol);

// Which of weave-npc's rules dropped the packet, as its log prefix says.
enum class Direction { kUnknown, kIngress, kEgress };

// kIngress for a prefix containing "ingress" ("weave-npc ingress: "), kEgress for one containing
// "egress" (and not "ingress"), kUnknown otherwise.
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
// Then, only when `lookup` names a pod at either end, a parenthesis with the direction (when the
// prefix tells it) and the pods that are known:
//
//   ... blocked by Weave NPC. (ingress from pod default/client to pod default/server)
//   ... blocked by Weave NPC. (egress from pod default/client)
//   ... blocked by Weave NPC. (to pod default/server)
//
// So without pod names (no lookup, or addresses outside the cluster) the line is exactly Weave
// Net's, and tools that matched it keep working. `lookup` may be empty.
std::string FormatBlockedLine(const BlockedPacket& packet, const PodLookup& lookup = nullptr);

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
// Record may run on the reader's thread while Flush and Counters run elsewhere. `lookup` and
// `sink` are called without a lock held, and may be called from several threads.
class BlockedConnectionLog {
 public:
  struct Options {
    double lines_per_second = 10;
    int burst = 20;
  };
  using Sink = std::function<void(const std::string& line)>;
  using Clock = std::function<absl::Time()>;

  BlockedConnectionLog(Options options, PodLookup lookup, Clock clock, Sink sink,
                       size_t max_label_sets = BlockedConnectionCounters::kDefaultMaxLabelSets);

  // Counts `packet` (always) and logs its line (unless the rate limit holds it back).
  void Record(const BlockedPacket& packet);

  // Logs the SuppressedLine of lines held back since the last line logged, if any. Call it
  // periodically (every few seconds) so that the count of a burst that ended is not lost.
  void Flush();

  const BlockedConnectionCounters& counters() const { return counters_; }

 private:
  const PodLookup lookup_;
  const Clock clock_;
  const Sink sink_;
  BlockedConnectionCounters counters_;
  absl::Mutex mu_;
  TokenBucket bucket_ ABSL_GUARDED_BY(mu_);
  uint64_t suppressed_ ABSL_GUARDED_BY(mu_) = 0;
};

// ---------------------------------------------------------------------------------------------
// The kernel adapter

struct NflogOptions {
  uint16_t group = 86;
  // Bytes of each packet the kernel copies to us: enough for an IP header with options (60) and
  // the ports behind it.
  uint32_t copy_range = 128;
  // The socket's receive buffer (SO_RCVBUFFORCE, else SO_RCVBUF up to the system limit). A burst
  // larger than this is lost (see Stats::overruns), and only counted.
  int receive_buffer_bytes = 4 << 20;
};

// Reads NFLOG group `group` of one network namespace through a NETLINK_NETFILTER socket.
//
// Binding: one config request binds the group (NFULNL_CFG_CMD_BIND), asks for packet copies of
// `copy_range` bytes (NFULNL_COPY_PACKET) and for every packet to be sent at once (queue
// threshold 1; the kernel's default batches up to 100 packets for up to a second). It does not
// send NFULNL_CFG_CMD_PF_UNBIND/PF_BIND: nftables' `log group` asks for the nfnetlink_log
// logger by type, whatever the namespace's default logger for AF_INET is (the kernel test shows
// packets arrive without it), while PF_UNBIND/PF_BIND would replace that default, taking other
// subsystems' log messages (conntrack's invalid-packet log) away from wherever they went.
//
// Only one socket in a network namespace can bind a group: a second Open fails, naming the group
// (the kernel says EPERM, the same as for a missing CAP_NET_ADMIN, so the message names both).
// Closing the reader unbinds it.
//
// Threading: Start runs a thread that calls `handler` for each IPv4 packet, in order; the handler
// must not call Stop. Stop (and the destructor) wake the thread through an eventfd and join it,
// so they return promptly. Open, Start, Stop and the destructor are for one owner; stats() may be
// called from any thread.
//
// Kernel conditions are handled, not fatal: a socket overrun (ENOBUFS, a burst bigger than the
// receive buffer) is counted and logged once; a message we cannot decode is counted and logged at
// debug level; IPv6 packets (weave-npc is IPv4) are counted as ignored.
class NflogReader {
 public:
  using Handler = std::function<void(const BlockedPacket&)>;

  struct Stats {
    uint64_t packets = 0;    // handed to the handler
    uint64_t malformed = 0;  // messages or packets we could not decode
    uint64_t ignored = 0;    // packets of another family (IPv6)
    uint64_t overruns = 0;   // times the kernel dropped messages for want of buffer (ENOBUFS)
  };

  // Opens the socket in the calling thread's network namespace and binds the group. Errors name
  // the step and the group: "binding NFLOG group 86: EPERM: ...".
  static absl::StatusOr<std::unique_ptr<NflogReader>> Open(const NflogOptions& options = {});

  // The same in the network namespace at `netns_path` (e.g. "/run/netns/NAME"); the socket stays
  // there. The calling thread's namespace is not changed (a short-lived thread opens the socket).
  static absl::StatusOr<std::unique_ptr<NflogReader>> OpenInNamespace(
      const std::string& netns_path, const NflogOptions& options = {});

  NflogReader(const NflogReader&) = delete;
  NflogReader& operator=(const NflogReader&) = delete;
  // Stops, and closes the socket, which unbinds the group.
  ~NflogReader();

  // Starts the reading thread. FailedPrecondition if it is running.
  absl::Status Start(Handler handler);

  // Stops the reading thread and waits for it; returns within milliseconds. Idempotent; Start
  // may be called again afterwards (packets logged meanwhile wait in the socket).
  void Stop();

  Stats stats() const;

 private:
  NflogReader(mnl_socket* socket, int wake_fd, NflogOptions options,
              std::vector<std::vector<uint8_t>> pending);

  void Run();
  void HandleDatagram(absl::Span<const uint8_t> datagram);

  mnl_socket* const socket_;
  const int wake_fd_;  // an eventfd: Stop makes it readable
  const NflogOptions options_;
  // Datagrams that arrived while Open waited for the kernel's answer to the bind.
  std::vector<std::vector<uint8_t>> pending_;
  Handler handler_;
  std::thread thread_;

  std::atomic<uint64_t> packets_{0};
  std::atomic<uint64_t> malformed_{0};
  std::atomic<uint64_t> ignored_{0};
  std::atomic<uint64_t> overruns_{0};
};

// The pure layer of NflogReader, exposed for its tests.
namespace internal {

// The config request that binds `group` with copy mode NFULNL_COPY_PACKET, `copy_range` bytes
// and queue threshold 1, asking for an acknowledgement: one netlink message.
std::vector<uint8_t> EncodeBindRequest(uint16_t group, uint32_t copy_range, uint32_t seq);

// One netlink message of nfnetlink_log's. A packet (NFULNL_MSG_PACKET) of family AF_INET becomes
// a BlockedPacket from its NFULA_PAYLOAD and NFULA_PREFIX; nullopt for a packet of another family
// (IPv6) or a message that is not a packet; InvalidArgument for a malformed one (bad lengths, no
// payload, a packet that does not parse). Reads only inside `message`.
absl::StatusOr<std::optional<BlockedPacket>> DecodePacketMessage(absl::Span<const uint8_t> message);

}  // namespace internal

}  // namespace weave::npc::nflog
