// The sleeve: a user-space overlay that carries the bridge's Ethernet frames between nodes in UDP
// (port 6783 by default, like the mesh's TCP port).
//
// Frames leave the node's bridge through a TAP port (tap.h: GSO super-frames of up to 64 KB with
// a virtio_net_hdr), travel one per datagram (sleeve_wire.h) to the peer, and enter its bridge
// through its TAP, virtio header and all, so the receiving kernel segments or delivers the
// super-frame. Datagrams larger than the underlay's MTU are IP-fragmented by the kernel (DF is
// never set: IP_PMTUDISC_DONT). A frame that does not fit one datagram (kMaxFrameSize) is dropped
// and counted (dropped_oversize); with the default GSO limit of 64 KB a TCP super-frame always
// fits.
//
// Two threads move the bytes; neither allocates per frame (buffers are allocated at Start:
// `batch` x 64 KB for each direction, and as much again for sealed copies of flooded frames and
// for relayed datagrams):
//   - "sleeve-tap": reads up to `batch` frames from the TAP per round, decides where each goes
//     (DecideSend: a learned unicast MAC to its peer, through its via if relayed; anything else
//     flooded along PeerSet::flood(); STP stays home), and sends the round's datagrams with one
//     sendmmsg. To a peer without a key: the header and the frame as two iovecs, the frame's
//     buffer shared by all the plain datagrams of a flooded frame. To a peer with a key: sealed
//     (sleeve_wire.h) where the frame lies when it goes to that peer only, else into a copy.
//     A frame whose source MAC was learned as a peer's is local now: that entry is forgotten.
//   - "sleeve-udp": receives up to `batch` datagrams per recvmmsg and applies DecideReceive to
//     each, which opens sealed datagrams in place: heartbeats go to the handler; data for us (or
//     broadcast) teaches the MAC table and is written into the TAP; data for another peer we can
//     reach is relayed (resealed in place for the next hop, sent with one sendmmsg per round);
//     everything else is dropped, counted by reason and logged at most once a minute per reason.
// Both threads take data counters (the nonces' material) from one atomic counter, so a counter is
// never used twice by this process; a receiver's replay window absorbs the reordering between
// the two threads' queues.
// Neither thread ever blocks in a way Stop cannot end: reads wait in poll() on the fd and an
// eventfd, and sends block only until the kernel drains the socket's buffer.
//
// Bridge ports: the TAP should be an isolated bridge port (like the fastdp VXLAN port) so that the
// bridge never forwards frames from one overlay into another, which would loop in a mesh.
//
// Threading: every public method is thread-safe. The heartbeat handler runs on the receive
// thread and must not call Stop (it would join its own thread) or block for long.
#pragma once

#include <netinet/in.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/peer_name.h"
#include "router/mesh/socket.h"
#include "router/overlay/mac_table.h"
#include "router/overlay/sleeve_forwarding.h"
#include "router/overlay/tap.h"

namespace weave::overlay {

struct SleeveConfig {
  PeerName self;
  std::string bind_host = "0.0.0.0";  // An IPv4 address.
  uint16_t port = 6783;               // 0: any free port (see Sleeve::port()).
  std::string tap_name = "vethwe-sleeve";
  int batch = 32;  // Frames per recvmmsg/sendmmsg; 1..1024.
  // SO_SNDBUF / SO_RCVBUF of the UDP socket (forced past the sysctl limits when we may): a burst
  // of 64 KB datagrams, each about 45 fragments, needs room while the other side catches up.
  int socket_buffer_bytes = 8 << 20;
};

struct SleeveStats {
  uint64_t tap_frames = 0;  // Frames read from the TAP.
  uint64_t tx_frames = 0;   // Data datagrams sent (a flooded frame counts once per peer).
  uint64_t tx_bytes = 0;    // Their Ethernet frames' bytes.
  uint64_t rx_frames = 0;   // Frames written into the TAP.
  uint64_t rx_bytes = 0;
  uint64_t heartbeats_sent = 0;
  uint64_t heartbeats_received = 0;
  // Received datagrams dropped: malformed (bad header or virtio header, truncated; also runt
  // frames from the TAP, which the kernel never produces).
  uint64_t dropped_bad = 0;
  uint64_t dropped_unknown_peer = 0;   // Sender not in the peer set.
  uint64_t dropped_wrong_address = 0;  // Sender's name from another IP address.
  uint64_t dropped_not_for_us = 0;     // For a peer not in the set, or our own frame.
  // From a peer with a key: not sealed, or not opening with the key; or sealed without a key.
  uint64_t dropped_unauthenticated = 0;
  uint64_t dropped_replayed = 0;  // Sealed and authentic, but a counter seen before (or too old).
  uint64_t dropped_relay = 0;     // To relay, but the hop limit is used up or there is no route.
  // Data datagrams for other peers sent on (not written into our TAP, nothing learned).
  uint64_t relayed_frames = 0;
  uint64_t relayed_bytes = 0;  // Their Ethernet frames' bytes.
  // TAP frames dropped: too big for one datagram; nowhere to go (no forwarding peer); STP.
  uint64_t dropped_oversize = 0;
  uint64_t dropped_no_peers = 0;
  uint64_t dropped_control = 0;
  // Failures of the OS: datagrams the socket refused (no route, ...), frames the TAP refused (a
  // virtio header our checks let through but the kernel did not), read/receive errors.
  uint64_t send_errors = 0;
  uint64_t tap_write_errors = 0;
  uint64_t read_errors = 0;
  uint64_t mac_table_full = 0;  // MACs not learned because the table was full.
  size_t macs = 0;              // Entries in the MAC table.
  // CPU time of the two threads so far.
  absl::Duration tap_thread_cpu;
  absl::Duration udp_thread_cpu;
};

class Sleeve {
 public:
  // Called on the receive thread for every valid heartbeat addressed to us.
  using HeartbeatHandler = std::function<void(PeerName from, uint64_t seq)>;

  // Opens the UDP socket and the TAP (in the calling thread's network namespace) and starts the
  // threads. The peer set is empty until SetPeers. Errors: InvalidArgument for a bad config;
  // those of OpenTap; the socket's (e.g. "binding sleeve UDP 0.0.0.0:6783: EADDRINUSE").
  static absl::StatusOr<std::unique_ptr<Sleeve>> Start(SleeveConfig config,
                                                       HeartbeatHandler on_heartbeat);

  Sleeve(const Sleeve&) = delete;
  Sleeve& operator=(const Sleeve&) = delete;
  ~Sleeve();  // Stop(), then closes the socket and the TAP (which removes the device).

  // Ends and joins the threads. Idempotent; from any thread but the heartbeat handler's.
  void Stop();

  int tap_fd() const { return tap_.fd.get(); }
  const std::string& tap_name() const { return tap_.name; }
  unsigned tap_offloads() const { return tap_.offloads; }
  uint16_t port() const { return port_; }

  // Replaces the peer set at once. MACs learned from peers that are gone or no longer forward
  // are forgotten. Meant for a control thread, a few times a second at most.
  void SetPeers(std::vector<SleevePeer> peers);

  // Sends one heartbeat datagram (seq) to the peer's address, sealed if the peer has a key.
  // NotFound when the peer is not in the set; FailedPrecondition when it is relayed (heartbeats
  // probe direct links); Unavailable when the socket's buffer is full; the socket's error
  // otherwise. Never blocks.
  absl::Status SendHeartbeat(PeerName peer, uint64_t seq);

  // Forgets the MACs learned from `peer` (the link to it switches overlay).
  void ForgetPeer(PeerName peer);

  SleeveStats Stats() const;

 private:
  // Indexes of counters_.
  enum Counter : int {
    kTapFrames,
    kTxFrames,
    kTxBytes,
    kRxFrames,
    kRxBytes,
    kHeartbeatsSent,
    kHeartbeatsReceived,
    kDroppedBad,
    kDroppedUnknownPeer,
    kDroppedWrongAddress,
    kDroppedNotForUs,
    kDroppedUnauthenticated,
    kDroppedReplayed,
    kDroppedRelay,
    kRelayedFrames,
    kRelayedBytes,
    kDroppedOversize,
    kDroppedNoPeers,
    kDroppedControl,
    kSendErrors,
    kTapWriteErrors,
    kReadErrors,
    kMacTableFull,
    kCounterCount,
  };
  // A thread's counts for one round, added to counters_ at its end.
  using Counts = std::array<uint64_t, kCounterCount>;

  // Datagrams waiting for one sendmmsg, and one thread's preallocated buffers: `batch` slots of
  // a frame or datagram each, and the sendmmsg or recvmmsg vectors.
  struct SendQueue;
  struct TxBuffers;
  struct RxBuffers;

  Sleeve(SleeveConfig config, HeartbeatHandler on_heartbeat, mesh::Fd udp, uint16_t port, Tap tap,
         mesh::Fd wake);

  std::shared_ptr<const PeerSet> CurrentPeers() const;
  void AddCounts(const Counts& counts);

  void TapLoop();
  void UdpLoop();
  // Reads up to `batch` frames from the TAP into tx; returns how many.
  int ReadTap(TxBuffers& tx, Counts& counts);
  // Queues a data datagram with `header` and the `size` bytes at `payload` (virtio header and
  // frame, with kSealedPrefixSize bytes of headroom before it) for `next_hop`, flushing first when
  // the queue is full. Sealed in place when `in_place`, else into the queue's copy slot. Too big
  // for a datagram once sealed: dropped and counted.
  void QueueDatagram(SendQueue& queue, const SleevePeer& next_hop, const Header& header,
                     uint8_t* payload, size_t size, bool in_place, Counts& counts);
  void Flush(SendQueue& queue, Counts& counts);
  // A fresh counter for a data datagram of ours.
  uint64_t NextDataCounter() { return data_counter_.fetch_add(1, std::memory_order_relaxed); }
  void HandleDatagram(const PeerSet& peers, RxBuffers& rx, int index, absl::Time now,
                      Counts& counts);
  static Counter DropCounter(ReceiveDrop drop);
  // Waits until `fd` is readable (true) or Stop is called (false). With fd < 0, waits only for
  // Stop or `timeout` (after an error, so that a persistent one does not spin); a timeout
  // returns true.
  bool WaitReadable(int fd, absl::Duration timeout = absl::InfiniteDuration());

  const SleeveConfig config_;
  const HeartbeatHandler on_heartbeat_;
  const mesh::Fd udp_;
  const uint16_t port_;
  const Tap tap_;
  const mesh::Fd wake_;  // An eventfd, readable once Stop is called.

  mutable std::mutex peers_mu_;
  std::shared_ptr<const PeerSet> peers_;  // Guarded by peers_mu_; never null.

  MacTable macs_;
  std::array<std::atomic<uint64_t>, kCounterCount> counters_{};
  std::atomic<uint64_t> data_counter_{0};
  std::atomic<uint64_t> heartbeat_counter_{0};

  mutable std::mutex lifecycle_mu_;
  bool stopped_ = false;  // Guarded by lifecycle_mu_.
  std::thread tap_thread_;
  std::thread udp_thread_;
  clockid_t tap_clock_{};
  clockid_t udp_clock_{};
  // Each thread's CPU time when it ended.
  std::atomic<int64_t> tap_final_cpu_ns_{0};
  std::atomic<int64_t> udp_final_cpu_ns_{0};
};

}  // namespace weave::overlay
