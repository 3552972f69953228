#include "router/overlay/sleeve.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/net/ip.h"
#include "common/netlink/errors.h"
#include "common/status_macros.h"
#include "router/overlay/sleeve_wire.h"
#include "spdlog/spdlog.h"

namespace weave::overlay {
namespace {

constexpr int kMaxBatch = 1024;
// A TAP read buffer: the virtio header and a 64 KB frame with room to spare, so that a frame too
// big for a datagram is seen whole (and dropped) rather than truncated. It is read after
// kSealedPrefixSize bytes of headroom, where a frame for one sealed peer is sealed in place.
constexpr size_t kTapSlotSize = kVirtioHeaderSize + 65536 + 128;
constexpr size_t kTapSlotStride = kSealedPrefixSize + kTapSlotSize;
// A receive buffer holds any IPv4 UDP datagram. It is received after kRxHeadroom bytes, so that
// the payload of any datagram has kSealedPrefixSize bytes before it, to be resealed in place
// when relayed.
constexpr size_t kRxSlotSize = 65536;
constexpr size_t kRxHeadroom = kSealedPrefixSize - kHeaderSize;
constexpr size_t kRxSlotStride = kRxHeadroom + kRxSlotSize;
// After an error that is not "nothing to read", wait this long before trying again.
constexpr absl::Duration kErrorBackoff = absl::Seconds(1);
constexpr absl::Duration kLogInterval = absl::Minutes(1);

std::string FormatAddress(const sockaddr_in& address) {
  return absl::StrCat(net::Ipv4(ntohl(address.sin_addr.s_addr)).ToString(), ":",
                      ntohs(address.sin_port));
}

// What each thread logs at most once per kLogInterval: the receive drop reasons, then these.
enum LogKey : int {
  kLogTruncated = kReceiveDropCount,
  kLogTapWrite,
  kLogTapRead,
  kLogReceive,
  kLogSend,
  kLogOversize,
  kLogMacTableFull,
  kLogKeyCount,
};

// Per thread, so it needs no lock.
class LogLimiter {
 public:
  LogLimiter() { last_.fill(absl::InfinitePast()); }
  bool Allow(int key, absl::Time now) {
    if (now - last_[key] < kLogInterval) return false;
    last_[key] = now;
    return true;
  }

 private:
  std::array<absl::Time, kLogKeyCount> last_;
};

int64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct BoundSocket {
  mesh::Fd fd;
  uint16_t port;
};

// Sets a buffer size past net.core.[rw]mem_max when we have CAP_NET_ADMIN, else up to it.
void SetBufferSize(int fd, int force_option, int option, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof(bytes)) == 0) return;
  (void)setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof(bytes));
}

absl::StatusOr<BoundSocket> OpenSocket(const SleeveConfig& config) {
  const std::string where = absl::StrCat(config.bind_host, ":", config.port);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(config.port);
  if (inet_pton(AF_INET, config.bind_host.c_str(), &address.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("sleeve bind address \"", config.bind_host, "\" is not an IPv4 address"));
  }
  mesh::Fd fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return netlink::ErrnoStatus(errno, "opening the sleeve UDP socket");
  // Never DF: a 64 KB datagram is fragmented to whatever the path takes.
  int pmtu = IP_PMTUDISC_DONT;
  if (setsockopt(fd.get(), IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu)) < 0) {
    return netlink::ErrnoStatus(errno, "sleeve UDP socket: IP_MTU_DISCOVER");
  }
  SetBufferSize(fd.get(), SO_SNDBUFFORCE, SO_SNDBUF, config.socket_buffer_bytes);
  SetBufferSize(fd.get(), SO_RCVBUFFORCE, SO_RCVBUF, config.socket_buffer_bytes);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0) {
    return netlink::ErrnoStatus(errno, absl::StrCat("binding sleeve UDP ", where));
  }
  socklen_t length = sizeof(address);
  if (getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) < 0) {
    return netlink::ErrnoStatus(errno, absl::StrCat("sleeve UDP ", where, ": getsockname"));
  }
  return BoundSocket{std::move(fd), ntohs(address.sin_port)};
}

}  // namespace

// Datagrams queued for one sendmmsg: each an encoded header and a payload (plain), or one
// sealed datagram. Sealed copies (a flooded frame to several sealed peers) go to copy slot q of
// queued datagram q.
struct Sleeve::SendQueue {
  SendQueue(int size, bool with_copies, Counter frames, Counter bytes, LogLimiter& limiter)
      : batch(size),
        copies(with_copies ? new uint8_t[size * kMaxDatagramSize] : nullptr),
        headers(size),
        iov(2 * size),
        msgs(size),
        frame_bytes(size),
        frames_counter(frames),
        bytes_counter(bytes),
        log(limiter) {}

  uint8_t* copy(int q) { return copies.get() + q * kMaxDatagramSize; }

  const int batch;
  std::unique_ptr<uint8_t[]> copies;  // Not zeroed: pages are touched on use.
  std::vector<std::array<uint8_t, kHeaderSize>> headers;
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
  std::vector<size_t> frame_bytes;  // Ethernet bytes of each queued datagram, for the stats.
  int queued = 0;
  // What a sent datagram counts as.
  const Counter frames_counter;
  const Counter bytes_counter;
  LogLimiter& log;
};

// The TAP thread's buffers. Slot i holds the i-th frame read this round (virtio header + frame),
// after its headroom.
struct Sleeve::TxBuffers {
  explicit TxBuffers(int size)
      : batch(size),
        frames(new uint8_t[size * kTapSlotStride]),  // Not zeroed: pages are touched on use.
        lengths(size),
        queue(size, /*with_copies=*/true, kTxFrames, kTxBytes, log) {}

  uint8_t* slot(int i) { return frames.get() + i * kTapSlotStride + kSealedPrefixSize; }

  const int batch;
  std::unique_ptr<uint8_t[]> frames;
  std::vector<size_t> lengths;
  LogLimiter log;
  SendQueue queue;
};

// The receive thread's buffers: slot i receives the i-th datagram of a recvmmsg.
struct Sleeve::RxBuffers {
  explicit RxBuffers(int size)
      : batch(size),
        data(new uint8_t[size * kRxSlotStride]),
        from(size),
        iov(size),
        msgs(size),
        relays(size, /*with_copies=*/false, kRelayedFrames, kRelayedBytes, log) {
    for (int i = 0; i < size; ++i) {
      iov[i] = iovec{slot(i), kRxSlotSize};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
    }
  }

  uint8_t* slot(int i) { return data.get() + i * kRxSlotStride + kRxHeadroom; }

  // recvmmsg overwrites these.
  void Reset() {
    for (mmsghdr& msg : msgs) {
      msg.msg_hdr.msg_namelen = sizeof(sockaddr_in);
      msg.msg_hdr.msg_flags = 0;
    }
  }

  const int batch;
  std::unique_ptr<uint8_t[]> data;
  std::vector<sockaddr_in> from;
  std::vector<iovec> iov;
  std::vector<mmsghdr> msgs;
  LogLimiter log;
  SendQueue relays;
  ReplayState replay;
  std::shared_ptr<const PeerSet> pruned_for;  // The peer set `replay` was last pruned for.
};

absl::StatusOr<std::unique_ptr<Sleeve>> Sleeve::Start(SleeveConfig config,
                                                      HeartbeatHandler on_heartbeat) {
  if (config.batch < 1 || config.batch > kMaxBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("sleeve batch ", config.batch, " is not within 1..", kMaxBatch));
  }
  if (config.self.value() == 0 || config.self == kBroadcastPeer) {
    return absl::InvalidArgumentError(
        absl::StrCat("sleeve peer name ", config.self.ToString(), " is not a peer's"));
  }
  ASSIGN_OR_RETURN(BoundSocket udp, OpenSocket(config));
  ASSIGN_OR_RETURN(Tap tap, OpenTap(config.tap_name));
  mesh::Fd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (wake.get() < 0) return netlink::ErrnoStatus(errno, "sleeve: eventfd");
  spdlog::info("Sleeve listening on UDP {}:{}, TAP {} (offloads {:#x})", config.bind_host, udp.port,
               tap.name, tap.offloads);
  return std::unique_ptr<Sleeve>(new Sleeve(std::move(config), std::move(on_heartbeat),
                                            std::move(udp.fd), udp.port, std::move(tap),
                                            std::move(wake)));
}

Sleeve::Sleeve(SleeveConfig config, HeartbeatHandler on_heartbeat, mesh::Fd udp, uint16_t port,
               Tap tap, mesh::Fd wake)
    : config_(std::move(config)),
      on_heartbeat_(std::move(on_heartbeat)),
      udp_(std::move(udp)),
      port_(port),
      tap_(std::move(tap)),
      wake_(std::move(wake)),
      peers_(std::make_shared<const PeerSet>()) {
  tap_thread_ = std::thread([this] {
    TapLoop();
    tap_final_cpu_ns_ = ThreadCpuNs();
  });
  udp_thread_ = std::thread([this] {
    UdpLoop();
    udp_final_cpu_ns_ = ThreadCpuNs();
  });
  pthread_setname_np(tap_thread_.native_handle(), "sleeve-tap");
  pthread_setname_np(udp_thread_.native_handle(), "sleeve-udp");
  pthread_getcpuclockid(tap_thread_.native_handle(), &tap_clock_);
  pthread_getcpuclockid(udp_thread_.native_handle(), &udp_clock_);
}

Sleeve::~Sleeve() { Stop(); }

void Sleeve::Stop() {
  std::lock_guard lock(lifecycle_mu_);
  if (stopped_) return;
  const uint64_t one = 1;
  (void)!write(wake_.get(), &one, sizeof(one));
  tap_thread_.join();
  udp_thread_.join();
  stopped_ = true;
}

std::shared_ptr<const PeerSet> Sleeve::CurrentPeers() const {
  std::lock_guard lock(peers_mu_);
  return peers_;
}

void Sleeve::SetPeers(std::vector<SleevePeer> peers) {
  auto next = std::make_shared<const PeerSet>(std::move(peers));
  std::shared_ptr<const PeerSet> previous;
  {
    std::lock_guard lock(peers_mu_);
    previous = std::exchange(peers_, next);
  }
  // The receive thread may still learn from the previous set for the rest of its round; such an
  // entry is harmless: DecideSend floods instead of unicasting to a peer that does not forward.
  for (const SleevePeer* old : previous->forwarding()) {
    const SleevePeer* now = next->Find(old->name);
    if (now == nullptr || !now->forward) macs_.ForgetPeer(old->name);
  }
}

void Sleeve::ForgetPeer(PeerName peer) { macs_.ForgetPeer(peer); }

absl::Status Sleeve::SendHeartbeat(PeerName peer, uint64_t seq) {
  std::shared_ptr<const PeerSet> peers = CurrentPeers();
  const SleevePeer* target = peers->Find(peer);
  if (target == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("sleeve heartbeat to ", peer.ToString(), ": not a known peer"));
  }
  if (!target->direct()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sleeve heartbeat to ", peer.ToString(), ": relayed through ", target->via.ToString()));
  }
  const Header header{.type = MessageType::kHeartbeat,
                      .sender = config_.self,
                      .source = config_.self,
                      .destination = peer,
                      .counter = kHeartbeatCounterBit | heartbeat_counter_.fetch_add(1)};
  // The payload after room for the sealed prefix; plain, the header goes right before it.
  std::array<uint8_t, kSealedPrefixSize + kHeartbeatPayloadSize> datagram;
  uint8_t* payload = datagram.data() + kSealedPrefixSize;
  const std::array<uint8_t, kHeartbeatPayloadSize> seq_bytes = EncodeHeartbeat(seq);
  std::copy(seq_bytes.begin(), seq_bytes.end(), payload);
  iovec iov{};
  if (target->key.has_value()) {
    iov = {datagram.data(),
           SealDatagram(*target->key, header, payload, kHeartbeatPayloadSize, datagram.data())};
  } else {
    const std::array<uint8_t, kHeaderSize> encoded = EncodeHeader(header);
    std::copy(encoded.begin(), encoded.end(), payload - kHeaderSize);
    iov = {payload - kHeaderSize, kHeaderSize + kHeartbeatPayloadSize};
  }
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr_in*>(&target->address);
  msg.msg_namelen = sizeof(sockaddr_in);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  while (sendmsg(udp_.get(), &msg, MSG_DONTWAIT) < 0) {
    if (errno == EINTR) continue;
    return netlink::ErrnoStatus(
        errno, absl::StrCat("sending a sleeve heartbeat to ", peer.ToString(), " at ",
                            FormatAddress(target->address)));
  }
  counters_[kHeartbeatsSent].fetch_add(1, std::memory_order_relaxed);
  return absl::OkStatus();
}

SleeveStats Sleeve::Stats() const {
  auto get = [this](Counter counter) { return counters_[counter].load(std::memory_order_relaxed); };
  SleeveStats stats;
  stats.tap_frames = get(kTapFrames);
  stats.tx_frames = get(kTxFrames);
  stats.tx_bytes = get(kTxBytes);
  stats.rx_frames = get(kRxFrames);
  stats.rx_bytes = get(kRxBytes);
  stats.heartbeats_sent = get(kHeartbeatsSent);
  stats.heartbeats_received = get(kHeartbeatsReceived);
  stats.dropped_bad = get(kDroppedBad);
  stats.dropped_unknown_peer = get(kDroppedUnknownPeer);
  stats.dropped_wrong_address = get(kDroppedWrongAddress);
  stats.dropped_not_for_us = get(kDroppedNotForUs);
  stats.dropped_unauthenticated = get(kDroppedUnauthenticated);
  stats.dropped_replayed = get(kDroppedReplayed);
  stats.dropped_relay = get(kDroppedRelay);
  stats.relayed_frames = get(kRelayedFrames);
  stats.relayed_bytes = get(kRelayedBytes);
  stats.dropped_oversize = get(kDroppedOversize);
  stats.dropped_no_peers = get(kDroppedNoPeers);
  stats.dropped_control = get(kDroppedControl);
  stats.send_errors = get(kSendErrors);
  stats.tap_write_errors = get(kTapWriteErrors);
  stats.read_errors = get(kReadErrors);
  stats.mac_table_full = get(kMacTableFull);
  stats.macs = macs_.size();

  // A thread's clock is valid while it runs; once it has ended, its final time counts.
  auto cpu = [](clockid_t clock, const std::atomic<int64_t>& final_ns, bool running) {
    timespec ts{};
    if (running && clock_gettime(clock, &ts) == 0) return absl::DurationFromTimespec(ts);
    return absl::Nanoseconds(final_ns.load());
  };
  std::lock_guard lock(lifecycle_mu_);
  stats.tap_thread_cpu = cpu(tap_clock_, tap_final_cpu_ns_, !stopped_);
  stats.udp_thread_cpu = cpu(udp_clock_, udp_final_cpu_ns_, !stopped_);
  return stats;
}

void Sleeve::AddCounts(const Counts& counts) {
  for (int i = 0; i < kCounterCount; ++i) {
    if (counts[i] != 0) counters_[i].fetch_add(counts[i], std::memory_order_relaxed);
  }
}

bool Sleeve::WaitReadable(int fd, absl::Duration timeout) {
  pollfd fds[2] = {{wake_.get(), POLLIN, 0}, {fd, POLLIN, 0}};
  const int nfds = fd < 0 ? 1 : 2;
  const int timeout_ms = timeout == absl::InfiniteDuration()
                             ? -1
                             : static_cast<int>(absl::ToInt64Milliseconds(timeout));
  while (poll(fds, nfds, timeout_ms) < 0) {
    if (errno != EINTR) break;  // Cannot happen with valid fds; the caller's next read tells.
  }
  return (fds[0].revents & POLLIN) == 0;
}

// ---- TAP -> UDP ----

void Sleeve::TapLoop() {
  TxBuffers tx(config_.batch);
  Counts counts;
  while (true) {
    counts.fill(0);
    const int n = ReadTap(tx, counts);
    if (n <= 0) {
      AddCounts(counts);
      // n < 0: an error other than "nothing to read"; poll() might return at once again.
      if (!(n == 0 ? WaitReadable(tap_.fd.get()) : WaitReadable(-1, kErrorBackoff))) return;
      continue;
    }
    std::shared_ptr<const PeerSet> peers = CurrentPeers();
    const absl::Time now = absl::Now();
    for (int i = 0; i < n; ++i) {
      if (tx.lengths[i] > kVirtioHeaderSize + kMaxFrameSize) {
        ++counts[kDroppedOversize];
        if (tx.log.Allow(kLogOversize, now)) {
          spdlog::warn("Sleeve: dropping a {}-byte frame from {}: more than fits a datagram ({})",
                       tx.lengths[i] - kVirtioHeaderSize, tap_.name, kMaxFrameSize);
        }
        continue;
      }
      if (tx.lengths[i] < kVirtioHeaderSize + kEthernetHeaderSize) {
        ++counts[kDroppedBad];
        continue;
      }
      absl::Span<const uint8_t> frame(tx.slot(i) + kVirtioHeaderSize,
                                      tx.lengths[i] - kVirtioHeaderSize);
      // A source address on our side of the bridge is local now, wherever it was learned.
      macs_.Forget(MacKey(frame.data() + 6));
      const SendDecision decision = DecideSend(*peers, macs_, frame, now);
      auto queue = [&](const SleeveRoute& route, bool in_place) {
        QueueDatagram(tx.queue, *route.next_hop,
                      Header{.type = MessageType::kData,
                             .sender = config_.self,
                             .source = config_.self,
                             .destination = route.destination,
                             .counter = NextDataCounter()},
                      tx.slot(i), tx.lengths[i], in_place, counts);
      };
      switch (decision.action) {
        case SendAction::kUnicast:
          queue(decision.route, /*in_place=*/true);
          break;
        case SendAction::kFlood:
          // Sealing in place would spoil the frame for the other copies.
          for (const SleeveRoute& route : peers->flood()) queue(route, peers->flood().size() == 1);
          break;
        case SendAction::kDropControl:
          ++counts[kDroppedControl];
          break;
        case SendAction::kDropNoPeers:
          ++counts[kDroppedNoPeers];
          break;
        case SendAction::kDropMalformed:
          ++counts[kDroppedBad];
          break;
      }
    }
    Flush(tx.queue, counts);  // Before `peers` goes: the queued datagrams point at its addresses.
    AddCounts(counts);
  }
}

int Sleeve::ReadTap(TxBuffers& tx, Counts& counts) {
  int n = 0;
  while (n < tx.batch) {
    const ssize_t r = read(tap_.fd.get(), tx.slot(n), kTapSlotSize);
    if (r >= 0) {
      tx.lengths[n++] = static_cast<size_t>(r);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) break;
    ++counts[kReadErrors];
    if (tx.log.Allow(kLogTapRead, absl::Now())) {
      spdlog::warn("Sleeve: {}", netlink::ErrnoStatus(errno, absl::StrCat("reading ", tap_.name)));
    }
    if (n == 0) return -1;
    break;
  }
  counts[kTapFrames] += n;
  return n;
}

void Sleeve::QueueDatagram(SendQueue& queue, const SleevePeer& next_hop, const Header& header,
                           uint8_t* payload, size_t size, bool in_place, Counts& counts) {
  const bool sealed = next_hop.key.has_value();
  if (sealed && size > kVirtioHeaderSize + kMaxSealedFrameSize) {
    ++counts[kDroppedOversize];
    if (queue.log.Allow(kLogOversize, absl::Now())) {
      spdlog::warn("Sleeve: dropping a {}-byte frame for {}: more than fits a sealed datagram ({})",
                   size - kVirtioHeaderSize, next_hop.name.ToString(), kMaxSealedFrameSize);
    }
    return;
  }
  if (queue.queued == queue.batch) Flush(queue, counts);
  const int q = queue.queued++;
  msghdr& msg = queue.msgs[q].msg_hdr;
  msg = msghdr{};
  msg.msg_name = const_cast<sockaddr_in*>(&next_hop.address);
  msg.msg_namelen = sizeof(sockaddr_in);
  msg.msg_iov = &queue.iov[2 * q];
  if (sealed) {
    uint8_t* out = in_place ? payload - kSealedPrefixSize : queue.copy(q);
    queue.iov[2 * q] = iovec{out, SealDatagram(*next_hop.key, header, payload, size, out)};
    msg.msg_iovlen = 1;
  } else {
    queue.headers[q] = EncodeHeader(header);
    queue.iov[2 * q] = iovec{queue.headers[q].data(), kHeaderSize};
    queue.iov[2 * q + 1] = iovec{payload, size};
    msg.msg_iovlen = 2;
  }
  queue.frame_bytes[q] = size - kVirtioHeaderSize;
}

void Sleeve::Flush(SendQueue& queue, Counts& counts) {
  int sent = 0;
  while (sent < queue.queued) {
    const int r = sendmmsg(udp_.get(), &queue.msgs[sent], queue.queued - sent, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      // The first unsent datagram failed (no route, a firewall): skip it, send the rest.
      ++counts[kSendErrors];
      if (queue.log.Allow(kLogSend, absl::Now())) {
        const auto* to = static_cast<const sockaddr_in*>(queue.msgs[sent].msg_hdr.msg_name);
        spdlog::warn("Sleeve: {}",
                     netlink::ErrnoStatus(errno, absl::StrCat("sending to ", FormatAddress(*to))));
      }
      ++sent;
      continue;
    }
    for (int i = sent; i < sent + r; ++i) {
      ++counts[queue.frames_counter];
      counts[queue.bytes_counter] += queue.frame_bytes[i];
    }
    sent += r;
  }
  queue.queued = 0;
}

// ---- UDP -> TAP ----

void Sleeve::UdpLoop() {
  RxBuffers rx(config_.batch);
  Counts counts;
  while (true) {
    counts.fill(0);
    rx.Reset();
    const int n = recvmmsg(udp_.get(), rx.msgs.data(), rx.batch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!WaitReadable(udp_.get())) return;
        continue;
      }
      if (errno == EINTR) continue;
      counters_[kReadErrors].fetch_add(1, std::memory_order_relaxed);
      if (rx.log.Allow(kLogReceive, absl::Now())) {
        spdlog::warn("Sleeve: {}", netlink::ErrnoStatus(errno, "receiving from the UDP socket"));
      }
      if (!WaitReadable(-1, kErrorBackoff)) return;
      continue;
    }
    std::shared_ptr<const PeerSet> peers = CurrentPeers();
    if (peers != rx.pruned_for) {
      rx.replay.Prune(*peers);
      rx.pruned_for = peers;
    }
    const absl::Time now = absl::Now();
    for (int i = 0; i < n; ++i) HandleDatagram(*peers, rx, i, now, counts);
    Flush(rx.relays, counts);  // Before `peers` goes and the slots are received into again.
    AddCounts(counts);
  }
}

Sleeve::Counter Sleeve::DropCounter(ReceiveDrop drop) {
  switch (drop) {
    case ReceiveDrop::kNone:
    case ReceiveDrop::kMalformed:
      return kDroppedBad;
    case ReceiveDrop::kUnknownSender:
      return kDroppedUnknownPeer;
    case ReceiveDrop::kWrongAddress:
      return kDroppedWrongAddress;
    case ReceiveDrop::kNotForUs:
    case ReceiveDrop::kLoop:
      return kDroppedNotForUs;
    case ReceiveDrop::kUnsealed:
    case ReceiveDrop::kUnexpectedSeal:
    case ReceiveDrop::kBadSeal:
      return kDroppedUnauthenticated;
    case ReceiveDrop::kReplayed:
      return kDroppedReplayed;
    case ReceiveDrop::kHopLimit:
    case ReceiveDrop::kNoRoute:
      return kDroppedRelay;
  }
  return kDroppedBad;
}

void Sleeve::HandleDatagram(const PeerSet& peers, RxBuffers& rx, int index, absl::Time now,
                            Counts& counts) {
  const msghdr& msg = rx.msgs[index].msg_hdr;
  const sockaddr_in& from = rx.from[index];
  if ((msg.msg_flags & MSG_TRUNC) != 0) {
    ++counts[kDroppedBad];
    if (rx.log.Allow(kLogTruncated, now)) {
      spdlog::warn("Sleeve: dropping a datagram from {}: truncated", FormatAddress(from));
    }
    return;
  }
  uint8_t* const bytes = rx.slot(index);
  const ReceiveDecision decision = DecideReceive(
      config_.self, peers, from, absl::MakeSpan(bytes, rx.msgs[index].msg_len), rx.replay);
  switch (decision.action) {
    case ReceiveAction::kDrop: {
      ++counts[DropCounter(decision.drop)];
      if (rx.log.Allow(static_cast<int>(decision.drop), now)) {
        spdlog::warn(
            "Sleeve: dropping a datagram from {}: {}{}{} (one such line a minute at most)",
            FormatAddress(from), ReceiveDropText(decision.drop),
            decision.drop == ReceiveDrop::kMalformed ? ": " : "",
            decision.drop == ReceiveDrop::kMalformed ? WireErrorText(decision.wire_error) : "");
      }
      return;
    }
    case ReceiveAction::kHeartbeat:
      ++counts[kHeartbeatsReceived];
      if (on_heartbeat_) on_heartbeat_(decision.datagram.header.sender, decision.heartbeat_seq);
      return;
    case ReceiveAction::kRelay: {
      const Header& in = decision.datagram.header;
      // The payload lies in our slot (opened in place if it was sealed).
      uint8_t* payload = bytes + (decision.datagram.payload.data() - bytes);
      QueueDatagram(rx.relays, *decision.next_hop,
                    Header{.type = MessageType::kData,
                           .hop_limit = static_cast<uint8_t>(in.hop_limit - 1),
                           .sender = config_.self,
                           .source = in.source,
                           .destination = in.destination,
                           .counter = NextDataCounter()},
                    payload, decision.datagram.payload.size(), /*in_place=*/true, counts);
      return;
    }
    case ReceiveAction::kDeliver:
      break;
  }
  const absl::Span<const uint8_t> payload = decision.datagram.payload;
  const size_t frame_bytes = payload.size() - kVirtioHeaderSize;
  if (decision.learn) {
    const uint64_t source_mac = MacKey(payload.data() + kVirtioHeaderSize + 6);
    if (macs_.Learn(source_mac, decision.datagram.header.source, now) ==
        MacTable::LearnResult::kFull) {
      ++counts[kMacTableFull];
      if (rx.log.Allow(kLogMacTableFull, now)) {
        spdlog::warn("Sleeve: MAC table full ({} entries); flooding to unlearned addresses",
                     macs_.size());
      }
    }
  }
  if (write(tap_.fd.get(), payload.data(), payload.size()) < 0) {
    ++counts[kTapWriteErrors];
    if (rx.log.Allow(kLogTapWrite, now)) {
      spdlog::warn("Sleeve: {}", netlink::ErrnoStatus(errno, absl::StrCat("writing a frame from ",
                                                                          FormatAddress(from),
                                                                          " into ", tap_.name)));
    }
    return;
  }
  ++counts[kRxFrames];
  counts[kRxBytes] += frame_bytes;
}

}  // namespace weave::overlay
