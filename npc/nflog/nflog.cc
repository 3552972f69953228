#include "npc/nflog/nflog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace weave::npc::nflog {
namespace {

constexpr size_t kIpv4MinHeader = 20;
constexpr size_t kPortBytes = 4;  // source and destination port lead TCP, UDP and SCTP headers

uint16_t Be16(absl::Span<const uint8_t> bytes, size_t offset) {
  return static_cast<uint16_t>(bytes[offset] << 8 | bytes[offset + 1]);
}

uint32_t Be32(absl::Span<const uint8_t> bytes, size_t offset) {
  return uint32_t{bytes[offset]} << 24 | uint32_t{bytes[offset + 1]} << 16 |
         uint32_t{bytes[offset + 2]} << 8 | uint32_t{bytes[offset + 3]};
}

bool CarriesPorts(Protocol protocol) {
  return protocol == Protocol::kTcp || protocol == Protocol::kUdp || protocol == Protocol::kSctp;
}

// "TCP", "UDP", "SCTP", "ICMP", "IP protocol 47": how the log line names a protocol.
std::string DisplayName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return "TCP";
    case Protocol::kUdp:
      return "UDP";
    case Protocol::kSctp:
      return "SCTP";
    case Protocol::kIcmp:
      return "ICMP";
  }
  return absl::StrCat("IP protocol ", static_cast<int>(protocol));
}

std::string Endpoint(net::Ipv4 address, bool has_port, uint16_t port) {
  return has_port ? absl::StrCat(address.ToString(), ":", port) : address.ToString();
}

absl::Status Invalid(absl::string_view why) { return absl::InvalidArgumentError(why); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// Values

std::string ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return "tcp";
    case Protocol::kUdp:
      return "udp";
    case Protocol::kSctp:
      return "sctp";
    case Protocol::kIcmp:
      return "icmp";
  }
  return absl::StrCat(static_cast<int>(protocol));
}

Direction DirectionOfPrefix(absl::string_view prefix) {
  if (absl::StrContains(prefix, "ingress")) return Direction::kIngress;
  if (absl::StrContains(prefix, "egress")) return Direction::kEgress;
  return Direction::kUnknown;
}

absl::StatusOr<BlockedPacket> ParseIpv4Packet(absl::Span<const uint8_t> packet,
                                              std::string prefix) {
  if (packet.empty()) return Invalid("IPv4 packet truncated: 0 bytes, the IP header needs 20");
  if (const int version = packet[0] >> 4; version != 4) {
    return Invalid(absl::StrCat("not IPv4: IP version ", version));
  }
  if (packet.size() < kIpv4MinHeader) {
    return Invalid(
        absl::StrCat("IPv4 packet truncated: ", packet.size(), " bytes, the IP header needs 20"));
  }
  const size_t header_length = size_t{packet[0] & 0x0fu} * 4;
  if (header_length < kIpv4MinHeader) {
    return Invalid(
        absl::StrCat("IPv4 header length ", header_length, " is below the minimum of 20"));
  }
  if (packet.size() < header_length) {
    return Invalid(absl::StrCat("IPv4 packet truncated: ", packet.size(),
                                " bytes, the IP header needs ", header_length));
  }
  // The copy may end before the packet does (NFLOG's copy range), and a frame may be padded after
  // it. A total length of 0 is BIG TCP's mark of a packet over 64 KiB.
  size_t end = packet.size();
  if (const uint16_t total_length = Be16(packet, 2); total_length != 0) {
    if (total_length < header_length) {
      return Invalid(absl::StrCat("IPv4 total length ", total_length, " is shorter than its ",
                                  header_length, "-byte header"));
    }
    end = std::min<size_t>(end, total_length);
  }

  BlockedPacket out;
  out.protocol = static_cast<Protocol>(packet[9]);
  out.saddr = net::Ipv4(Be32(packet, 12));
  out.daddr = net::Ipv4(Be32(packet, 16));
  out.prefix = std::move(prefix);
  const bool first_fragment = (Be16(packet, 6) & 0x1fff) == 0;
  if (!first_fragment || !CarriesPorts(out.protocol)) return out;

  const size_t transport = end - header_length;
  if (transport < kPortBytes) {
    return Invalid(absl::StrCat(DisplayName(out.protocol), " header truncated: ", transport,
                                " of the 4 bytes of its ports"));
  }
  out.has_ports = true;
  out.sport = Be16(packet, header_length);
  out.dport = Be16(packet, header_length + 2);
  return out;
}

std::string FormatBlockedLine(const BlockedPacket& packet, const PodLookup& lookup) {
  std::string line = absl::StrCat(DisplayName(packet.protocol), " connection from ",
                                  Endpoint(packet.saddr, packet.has_ports, packet.sport), " to ",
                                  Endpoint(packet.daddr, packet.has_ports, packet.dport),
                                  " blocked by Weave NPC.");
  if (!lookup) return line;
  const std::string source_pod = lookup(packet.saddr);
  const std::string destination_pod = lookup(packet.daddr);
  if (source_pod.empty() && destination_pod.empty()) return line;
  std::vector<std::string> words;
  switch (DirectionOfPrefix(packet.prefix)) {
    case Direction::kIngress:
      words.push_back("ingress");
      break;
    case Direction::kEgress:
      words.push_back("egress");
      break;
    case Direction::kUnknown:
      break;
  }
  if (!source_pod.empty()) words.push_back(absl::StrCat("from pod ", source_pod));
  if (!destination_pod.empty()) words.push_back(absl::StrCat("to pod ", destination_pod));
  absl::StrAppend(&line, " (", absl::StrJoin(words, " "), ")");
  return line;
}

std::string SuppressedLine(uint64_t suppressed) {
  return absl::StrCat("... and ", suppressed, " more blocked ",
                      suppressed == 1 ? "connection" : "connections", " not logged");
}

// ---------------------------------------------------------------------------------------------
// Rate limiting

namespace {
// Rates outside this range are clamped, so that the durations below stay finite and non-zero.
constexpr double kMinRate = 1e-6;
constexpr double kMaxRate = 1e9;
}  // namespace

TokenBucket::TokenBucket(double per_second, int burst)
    : refills_(per_second > 0),
      interval_(refills_ ? absl::Seconds(1) / std::clamp(per_second, kMinRate, kMaxRate)
                         : absl::Seconds(1)),
      capacity_(interval_ * std::max(burst, 0)),
      credit_(capacity_) {}

bool TokenBucket::TryTake(absl::Time now) {
  if (refills_ && last_ != absl::InfinitePast() && now > last_) {
    credit_ = std::min(capacity_, credit_ + (now - last_));
  }
  if (now > last_) last_ = now;
  if (credit_ < interval_) return false;
  credit_ -= interval_;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Counting

void BlockedConnectionCounters::Add(const BlockedPacket& packet) {
  std::pair<std::string, std::string> key(ProtocolName(packet.protocol),
                                          packet.has_ports ? absl::StrCat(packet.dport) : "");
  absl::MutexLock lock(&mu_);
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    if (label_sets_ < max_label_sets_) {
      ++label_sets_;
    } else {
      key.second = "other";
    }
    it = counts_.try_emplace(std::move(key), 0).first;
  }
  ++it->second;
}

std::vector<BlockedCount> BlockedConnectionCounters::Snapshot() const {
  absl::MutexLock lock(&mu_);
  std::vector<BlockedCount> out;
  out.reserve(counts_.size());
  for (const auto& [key, count] : counts_) out.push_back({key.first, key.second, count});
  return out;
}

metrics::Family BlockedConnectionsFamily(const std::vector<BlockedCount>& counts) {
  metrics::Family family{"weavenpc_blocked_connections_total",
                         "Connections blocked by Weave NPC.",
                         metrics::Type::kCounter,
                         {}};
  for (const BlockedCount& count : counts) {
    family.samples.push_back(
        {{{"protocol", count.protocol}, {"dport", count.dport}}, static_cast<double>(count.count)});
  }
  return family;
}

// ---------------------------------------------------------------------------------------------
// The log

BlockedConnectionLog::BlockedConnectionLog(Options options, PodLookup lookup, Clock clock,
                                           Sink sink, size_t max_label_sets)
    : lookup_(std::move(lookup)),
      clock_(std::move(clock)),
      sink_(std::move(sink)),
      counters_(max_label_sets),
      bucket_(options.lines_per_second, options.burst) {}

void BlockedConnectionLog::Record(const BlockedPacket& packet) {
  counters_.Add(packet);
  uint64_t suppressed = 0;
  {
    absl::MutexLock lock(&mu_);
    if (!bucket_.TryTake(clock_())) {
      ++suppressed_;
      return;
    }
    suppressed = std::exchange(suppressed_, 0);
  }
  if (suppressed > 0) sink_(SuppressedLine(suppressed));
  sink_(FormatBlockedLine(packet, lookup_));
}

void BlockedConnectionLog::Flush() {
  uint64_t suppressed = 0;
  {
    absl::MutexLock lock(&mu_);
    suppressed = std::exchange(suppressed_, 0);
  }
  if (suppressed > 0) sink_(SuppressedLine(suppressed));
}

// ---------------------------------------------------------------------------------------------
// The pure layer of the adapter

namespace internal {
namespace {

constexpr uint16_t kPacketType = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
constexpr uint16_t kConfigType = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
constexpr size_t kFamilyHeaderEnd = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));

}  // namespace

std::vector<uint8_t> EncodeBindRequest(uint16_t group, uint32_t copy_range, uint32_t seq) {
  std::vector<uint8_t> buffer(256);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buffer.data());
  nlh->nlmsg_type = kConfigType;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  auto* family = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  family->nfgen_family = AF_UNSPEC;
  family->version = NFNETLINK_V0;
  family->res_id = htons(group);
  const nfulnl_msg_config_cmd command{NFULNL_CFG_CMD_BIND};
  mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(command), &command);
  nfulnl_msg_config_mode mode{};
  mode.copy_range = htonl(copy_range);
  mode.copy_mode = NFULNL_COPY_PACKET;
  mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(mode), &mode);
  mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
  buffer.resize(nlh->nlmsg_len);
  return buffer;
}

absl::StatusOr<std::optional<BlockedPacket>> DecodePacketMessage(
    absl::Span<const uint8_t> message) {
  nlmsghdr header;
  if (message.size() < sizeof(header)) {
    return Invalid(absl::StrCat("netlink message truncated: ", message.size(), " bytes"));
  }
  std::memcpy(&header, message.data(), sizeof(header));
  if (header.nlmsg_type != kPacketType) return std::nullopt;
  if (header.nlmsg_len > message.size() || header.nlmsg_len < kFamilyHeaderEnd) {
    return Invalid(absl::StrCat("NFULNL_MSG_PACKET of length ", header.nlmsg_len, " in ",
                                message.size(), " bytes"));
  }
  message = message.first(header.nlmsg_len);
  nfgenmsg family;
  std::memcpy(&family, message.data() + NLMSG_HDRLEN, sizeof(family));
  if (family.nfgen_family != AF_INET) return std::nullopt;

  std::optional<absl::Span<const uint8_t>> payload;
  std::string prefix;
  for (size_t offset = kFamilyHeaderEnd; offset + NLA_HDRLEN <= message.size();) {
    nlattr attr;
    std::memcpy(&attr, message.data() + offset, sizeof(attr));
    if (attr.nla_len < NLA_HDRLEN || attr.nla_len > message.size() - offset) {
      return Invalid(absl::StrCat("NFULNL_MSG_PACKET attribute of length ", attr.nla_len,
                                  " at offset ", offset, " of ", message.size()));
    }
    const absl::Span<const uint8_t> value =
        message.subspan(offset + NLA_HDRLEN, attr.nla_len - NLA_HDRLEN);
    switch (attr.nla_type & NLA_TYPE_MASK) {
      case NFULA_PAYLOAD:
        payload = value;
        break;
      case NFULA_PREFIX: {
        // NUL-terminated, but never trusted to be.
        const auto nul = std::find(value.begin(), value.end(), uint8_t{0});
        prefix.assign(value.begin(), nul);
        break;
      }
      default:
        break;
    }
    offset += NLA_ALIGN(attr.nla_len);
  }
  if (!payload.has_value()) return Invalid("NFULNL_MSG_PACKET without NFULA_PAYLOAD");
  return ParseIpv4Packet(*payload, std::move(prefix));
}

}  // namespace internal

// ---------------------------------------------------------------------------------------------
// The socket

namespace {

// Datagrams of nfnetlink_log hold one packet each (queue threshold 1); this is ample.
constexpr size_t kReceiveBufferSize = 64 * 1024;
// How long Open waits for the kernel to acknowledge the bind.
constexpr int kAckTimeoutMs = 5'000;

using SocketPtr = std::unique_ptr<mnl_socket, decltype(&mnl_socket_close)>;

std::string ErrnoName(int error) {
  const char* name = strerrorname_np(error);
  return name != nullptr ? name : absl::StrCat("errno ", error);
}

// "<what>: EPERM" or "<what>: EPERM: <why>", with the errno's status code.
absl::Status Errno(int error, absl::string_view what, absl::string_view why = {}) {
  return absl::ErrnoToStatus(
      error, absl::StrCat(what, ": ", ErrnoName(error), why.empty() ? "" : ": ", why));
}

std::string GroupName(uint16_t group) { return absl::StrCat("NFLOG group ", group); }

absl::Status BindError(int error, uint16_t group) {
  const std::string what = absl::StrCat("binding ", GroupName(group));
  if (error == EPERM || error == EBUSY) {
    return Errno(error, what,
                 "another socket in this network namespace has bound the group (only one "
                 "may: is another weave-npc or ulogd running?), or CAP_NET_ADMIN is missing");
  }
  return Errno(error, what);
}

// A socket option that may need privileges to raise past the system limit: the forcing variant
// first (CAP_NET_ADMIN), then the ordinary one.
void RaiseReceiveBuffer(int fd, int bytes) {
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) != 0) {
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  }
}

// Sends the bind request and reads until its acknowledgement. Datagrams that come before it
// (packets logged meanwhile) are appended to `pending`, overruns counted in `overruns`.
absl::Status Bind(mnl_socket* socket, const NflogOptions& options,
                  std::vector<std::vector<uint8_t>>& pending, uint64_t& overruns) {
  constexpr uint32_t kSeq = 1;
  const std::vector<uint8_t> request =
      internal::EncodeBindRequest(options.group, options.copy_range, kSeq);
  if (mnl_socket_sendto(socket, request.data(), request.size()) < 0) {
    return Errno(errno, absl::StrCat("sending the bind request for ", GroupName(options.group)));
  }
  const int fd = mnl_socket_get_fd(socket);
  std::vector<uint8_t> buffer(kReceiveBufferSize);
  while (true) {
    pollfd readable = {fd, POLLIN, 0};
    const int ready = poll(&readable, 1, kAckTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Errno(errno, absl::StrCat("binding ", GroupName(options.group)));
    if (ready == 0) {
      return absl::DeadlineExceededError(absl::StrCat("binding ", GroupName(options.group),
                                                      ": no answer from the kernel in ",
                                                      kAckTimeoutMs / 1000, " s"));
    }
    const ssize_t received = recv(fd, buffer.data(), buffer.size(), 0);
    if (received < 0 && errno == EINTR) continue;
    if (received < 0 && errno == ENOBUFS) {
      ++overruns;
      continue;
    }
    if (received < 0) return Errno(errno, absl::StrCat("binding ", GroupName(options.group)));
    int remaining = static_cast<int>(received);
    for (const auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer.data());
         mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
      if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq != kSeq ||
          nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nlmsgerr)) {
        continue;
      }
      const auto* answer = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (answer->error != 0) return BindError(-answer->error, options.group);
      return absl::OkStatus();
    }
    pending.emplace_back(buffer.begin(), buffer.begin() + received);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<NflogReader>> NflogReader::Open(const NflogOptions& options) {
  const std::string group = GroupName(options.group);
  SocketPtr socket(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC), &mnl_socket_close);
  if (socket == nullptr) {
    return Errno(errno, absl::StrCat("opening a NETLINK_NETFILTER socket for ", group));
  }
  if (mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return Errno(errno, absl::StrCat("binding the NETLINK_NETFILTER socket for ", group));
  }
  RaiseReceiveBuffer(mnl_socket_get_fd(socket.get()), options.receive_buffer_bytes);
  std::vector<std::vector<uint8_t>> pending;
  uint64_t overruns = 0;
  RETURN_IF_ERROR(Bind(socket.get(), options, pending, overruns));
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) return Errno(errno, absl::StrCat("creating an eventfd for ", group));
  auto reader = std::unique_ptr<NflogReader>(
      new NflogReader(socket.release(), wake_fd, options, std::move(pending)));
  reader->overruns_ = overruns;
  return reader;
}

absl::StatusOr<std::unique_ptr<NflogReader>> NflogReader::OpenInNamespace(
    const std::string& netns_path, const NflogOptions& options) {
  absl::StatusOr<std::unique_ptr<NflogReader>> result;
  // setns() changes the namespace of the calling thread only, so a thread of our own enters it,
  // opens the socket (which keeps the namespace) and ends.
  std::thread opener([&] {
    const int fd = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      result = Errno(errno, absl::StrCat("opening network namespace ", netns_path));
      return;
    }
    if (setns(fd, CLONE_NEWNET) != 0) {
      result = Errno(errno, absl::StrCat("entering network namespace ", netns_path));
      close(fd);
      return;
    }
    close(fd);
    result = Open(options);
  });
  opener.join();
  return result;
}

NflogReader::NflogReader(mnl_socket* socket, int wake_fd, NflogOptions options,
                         std::vector<std::vector<uint8_t>> pending)
    : socket_(socket), wake_fd_(wake_fd), options_(options), pending_(std::move(pending)) {}

NflogReader::~NflogReader() {
  Stop();
  close(wake_fd_);
  mnl_socket_close(socket_);
}

absl::Status NflogReader::Start(Handler handler) {
  if (thread_.joinable()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the reader of ", GroupName(options_.group), " is running"));
  }
  handler_ = std::move(handler);
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void NflogReader::Stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof(one)) != sizeof(one)) {
    // An eventfd write fails only on overflow, which one write per Stop cannot reach.
    spdlog::critical("waking the reader of {}: {}", GroupName(options_.group), ErrnoName(errno));
    std::abort();
  }
  thread_.join();
  uint64_t value = 0;
  (void)read(wake_fd_, &value, sizeof(value));  // readable no more, so that Start can run again
}

NflogReader::Stats NflogReader::stats() const {
  return {packets_.load(), malformed_.load(), ignored_.load(), overruns_.load()};
}

void NflogReader::Run() {
  for (const std::vector<uint8_t>& datagram : pending_) HandleDatagram(datagram);
  pending_.clear();
  const int fd = mnl_socket_get_fd(socket_);
  std::vector<uint8_t> buffer(kReceiveBufferSize);
  while (true) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int ready = poll(fds, 2, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      spdlog::error("waiting for {}: {}; no more blocked connections will be logged",
                    GroupName(options_.group), ErrnoName(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    const ssize_t received = recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (received >= 0) {
      HandleDatagram(absl::MakeConstSpan(buffer.data(), static_cast<size_t>(received)));
      continue;
    }
    if (errno == EINTR || errno == EAGAIN) continue;
    if (errno == ENOBUFS) {
      if (overruns_.fetch_add(1) == 0) {
        spdlog::warn(
            "reading {}: the kernel dropped log messages, the socket's buffer was full; some "
            "blocked connections were neither logged nor counted (further overruns are only "
            "counted)",
            GroupName(options_.group));
      }
      continue;
    }
    spdlog::error("reading {}: {}; no more blocked connections will be logged",
                  GroupName(options_.group), ErrnoName(errno));
    return;
  }
}

void NflogReader::HandleDatagram(absl::Span<const uint8_t> datagram) {
  int remaining = static_cast<int>(datagram.size());
  for (const auto* nlh = reinterpret_cast<const nlmsghdr*>(datagram.data());
       mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
    if (nlh->nlmsg_type != internal::kPacketType) continue;
    absl::StatusOr<std::optional<BlockedPacket>> packet = internal::DecodePacketMessage(
        absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(nlh), nlh->nlmsg_len));
    if (!packet.ok()) {
      if (malformed_.fetch_add(1) == 0) {
        spdlog::warn("{}: {} (further undecodable messages are only counted)",
                     GroupName(options_.group), std::string(packet.status().message()));
      }
      continue;
    }
    if (!packet->has_value()) {
      ++ignored_;
      continue;
    }
    ++packets_;
    handler_(**packet);
  }
}

}  // namespace weave::npc::nflog
