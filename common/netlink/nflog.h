// The packets that rules log to an NFLOG group, read through nfnetlink_log (NETLINK_NETFILTER /
// NFNL_SUBSYS_ULOG).
//
// A rule such as `log prefix "weave-npc ingress: " group 86 drop` makes the kernel hand a copy of
// the head of every packet it matches to the group. NflogReader binds the group and delivers each
// IPv4 copy as a LoggedPacket: the rule's prefix and the packet's bytes, uninterpreted. What a
// packet means is the caller's business (weave-npc's blocked-connection log, npc/nflog).
//
// Two layers, as the rtnetlink adapter beside it: the pure encoder and decoder (internal::, bytes
// in and out, testable without root) and the socket (NflogReader), tested in a network namespace
// of its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

struct mnl_socket;

namespace weave::netlink::nflog {

// One IPv4 packet as a rule logged it.
struct LoggedPacket {
  std::string prefix;            // the rule's log prefix, e.g. "weave-npc ingress: "
  std::vector<uint8_t> payload;  // from the IP header on, at most NflogOptions::copy_range bytes

  friend bool operator==(const LoggedPacket&, const LoggedPacket&) = default;
};

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
// receive buffer) is counted and logged once; a message we cannot decode, or a packet the handler
// refuses, is counted as malformed and the first is logged; IPv6 packets (weave-npc is IPv4) are
// counted as ignored.
class NflogReader {
 public:
  // Makes sense of one packet. An error (InvalidArgument: the payload does not parse) says it
  // made none: the packet is counted as malformed rather than as a packet.
  using Handler = std::function<absl::Status(const LoggedPacket&)>;

  struct Stats {
    uint64_t packets = 0;    // handled (the handler returned OK)
    uint64_t malformed = 0;  // messages we could not decode, and packets the handler refused
    uint64_t ignored = 0;    // packets of another family (IPv6)
    uint64_t overruns = 0;   // times the kernel dropped messages for want of buffer (ENOBUFS)
  };

  // Opens the socket in the calling thread's network namespace and binds the group. Errors name
  // the step and the group: "binding NFLOG group 86: EPERM (...)" (codes as ErrnoStatus).
  static absl::StatusOr<std::unique_ptr<NflogReader>> Open(const NflogOptions& options = {});

  // The same in the network namespace at `netns_path` (e.g. "/run/netns/NAME"); the socket stays
  // there. The calling thread's namespace is not changed (RunInNetns opens the socket).
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
  // Counts a message or packet as malformed; logs the first.
  void CountMalformed(const absl::Status& why);

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
// a LoggedPacket of its NFULA_PREFIX (read up to a NUL, never trusted to have one) and
// NFULA_PAYLOAD; nullopt for a packet of another family (IPv6) or a message that is not a packet;
// InvalidArgument, one line, for a malformed one (bad lengths, no payload). Reads only inside
// `message`.
absl::StatusOr<std::optional<LoggedPacket>> DecodePacketMessage(absl::Span<const uint8_t> message);

}  // namespace internal

}  // namespace weave::netlink::nflog
