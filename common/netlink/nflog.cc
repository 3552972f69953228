#include "common/netlink/nflog.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/netlink/errors.h"
#include "common/netlink/netns.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace weave::netlink::nflog {

// ---------------------------------------------------------------------------------------------
// The pure layer

namespace internal {
namespace {

constexpr uint16_t kPacketType = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
constexpr uint16_t kConfigType = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
constexpr size_t kFamilyHeaderEnd = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));

absl::Status Invalid(absl::string_view why) { return absl::InvalidArgumentError(why); }

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

absl::StatusOr<std::optional<LoggedPacket>> DecodePacketMessage(absl::Span<const uint8_t> message) {
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
  LoggedPacket packet;
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
        packet.prefix.assign(value.begin(), nul);
        break;
      }
      default:
        break;
    }
    offset += NLA_ALIGN(attr.nla_len);
  }
  if (!payload.has_value()) return Invalid("NFULNL_MSG_PACKET without NFULA_PAYLOAD");
  packet.payload.assign(payload->begin(), payload->end());
  return packet;
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

std::string GroupName(uint16_t group) { return absl::StrCat("NFLOG group ", group); }

// "<what>: EBADF" for the current errno, worded as ErrnoStatus words errors, for the log.
std::string ErrnoText(absl::string_view what) {
  return std::string(ErrnoStatus(errno, what).message());
}

absl::Status BindError(int error, uint16_t group) {
  const std::string what = absl::StrCat("binding ", GroupName(group));
  if (error == EPERM || error == EBUSY) {
    return ErrnoStatus(error, what,
                       "another socket in this network namespace has bound the group (only one "
                       "may: is another weave-npc or ulogd running?), or CAP_NET_ADMIN is missing");
  }
  return ErrnoStatus(error, what);
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
    return ErrnoStatus(errno,
                       absl::StrCat("sending the bind request for ", GroupName(options.group)));
  }
  const int fd = mnl_socket_get_fd(socket);
  std::vector<uint8_t> buffer(kReceiveBufferSize);
  while (true) {
    pollfd readable = {fd, POLLIN, 0};
    const int ready = poll(&readable, 1, kAckTimeoutMs);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return ErrnoStatus(errno, absl::StrCat("binding ", GroupName(options.group)));
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
    if (received < 0) return ErrnoStatus(errno, absl::StrCat("binding ", GroupName(options.group)));
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
    return ErrnoStatus(errno, absl::StrCat("opening a NETLINK_NETFILTER socket for ", group));
  }
  if (mnl_socket_bind(socket.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return ErrnoStatus(errno, absl::StrCat("binding the NETLINK_NETFILTER socket for ", group));
  }
  RaiseReceiveBuffer(mnl_socket_get_fd(socket.get()), options.receive_buffer_bytes);
  std::vector<std::vector<uint8_t>> pending;
  uint64_t overruns = 0;
  RETURN_IF_ERROR(Bind(socket.get(), options, pending, overruns));
  const int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) return ErrnoStatus(errno, absl::StrCat("creating an eventfd for ", group));
  auto reader = std::unique_ptr<NflogReader>(
      new NflogReader(socket.release(), wake_fd, options, std::move(pending)));
  reader->overruns_ = overruns;
  return reader;
}

absl::StatusOr<std::unique_ptr<NflogReader>> NflogReader::OpenInNamespace(
    const std::string& netns_path, const NflogOptions& options) {
  absl::StatusOr<std::unique_ptr<NflogReader>> opened;
  RETURN_IF_ERROR(RunInNetns(netns_path, [&] {
    opened = Open(options);
    return opened.status();
  }));
  return opened;
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
    spdlog::critical("{}",
                     ErrnoText(absl::StrCat("waking the reader of ", GroupName(options_.group))));
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
      spdlog::error("{}; no more of its packets will be read",
                    ErrnoText(absl::StrCat("waiting for ", GroupName(options_.group))));
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
            "packets were lost (further overruns are only counted)",
            GroupName(options_.group));
      }
      continue;
    }
    spdlog::error("{}; no more of its packets will be read",
                  ErrnoText(absl::StrCat("reading ", GroupName(options_.group))));
    return;
  }
}

void NflogReader::HandleDatagram(absl::Span<const uint8_t> datagram) {
  int remaining = static_cast<int>(datagram.size());
  for (const auto* nlh = reinterpret_cast<const nlmsghdr*>(datagram.data());
       mnl_nlmsg_ok(nlh, remaining); nlh = mnl_nlmsg_next(nlh, &remaining)) {
    if (nlh->nlmsg_type != internal::kPacketType) continue;
    absl::StatusOr<std::optional<LoggedPacket>> packet = internal::DecodePacketMessage(
        absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(nlh), nlh->nlmsg_len));
    if (!packet.ok()) {
      CountMalformed(packet.status());
      continue;
    }
    if (!packet->has_value()) {
      ++ignored_;
      continue;
    }
    if (absl::Status handled = handler_(**packet); !handled.ok()) {
      CountMalformed(handled);
      continue;
    }
    ++packets_;
  }
}

void NflogReader::CountMalformed(const absl::Status& why) {
  if (malformed_.fetch_add(1) == 0) {
    spdlog::warn("{}: {} (further malformed packets are only counted)", GroupName(options_.group),
                 std::string(why.message()));
  }
}

}  // namespace weave::netlink::nflog
