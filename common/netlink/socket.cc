#include "common/netlink/socket.h"

#include <libmnl/libmnl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/netlink/errors.h"

namespace weave::netlink {
namespace {

// Large enough for the biggest datagram the kernel builds for a dump (32 KiB) with room to spare;
// a larger message is reported (ENOSPC), not truncated.
constexpr size_t kReceiveBufferSize = 64 * 1024;

// The kernel answers within microseconds; a request unanswered for this long means a bug of ours
// (a reply already consumed), and waiting forever would hang the caller.
constexpr timeval kReceiveTimeout = {.tv_sec = 10, .tv_usec = 0};

// Options that improve errors and dumps; a kernel without them works as before. Strict checking
// is rtnetlink's (its dumps filter by the request's header only with it).
void SetOptionalOptions(mnl_socket* socket, int protocol) {
  int on = 1;
  for (int option : {NETLINK_EXT_ACK, NETLINK_CAP_ACK}) {
    (void)mnl_socket_setsockopt(socket, option, &on, sizeof(on));
  }
  if (protocol == NETLINK_ROUTE) {
    (void)mnl_socket_setsockopt(socket, NETLINK_GET_STRICT_CHK, &on, sizeof(on));
  }
}

std::string ProtocolName(int protocol) {
  switch (protocol) {
    case NETLINK_ROUTE:
      return "rtnetlink";
    case NETLINK_NETFILTER:
      return "nfnetlink";
    default:
      return absl::StrCat("netlink protocol ", protocol);
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<NetlinkSocket>> NetlinkSocket::Open(int protocol) {
  mnl_socket* socket = mnl_socket_open2(protocol, SOCK_CLOEXEC);
  if (socket == nullptr) {
    return ErrnoStatus(errno, absl::StrCat("opening ", ProtocolName(protocol), " socket"));
  }
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0 ||
      setsockopt(mnl_socket_get_fd(socket), SOL_SOCKET, SO_RCVTIMEO, &kReceiveTimeout,
                 sizeof(kReceiveTimeout)) < 0) {
    const int error = errno;
    mnl_socket_close(socket);
    return ErrnoStatus(error, absl::StrCat("setting up ", ProtocolName(protocol), " socket"));
  }
  SetOptionalOptions(socket, protocol);
  return std::unique_ptr<NetlinkSocket>(new NetlinkSocket(socket, mnl_socket_get_portid(socket)));
}

NetlinkSocket::NetlinkSocket(mnl_socket* socket, uint32_t port_id)
    : socket_(socket), port_id_(port_id), buffer_(kReceiveBufferSize) {}

NetlinkSocket::~NetlinkSocket() { mnl_socket_close(socket_); }

absl::Status NetlinkSocket::Send(Request& request, absl::string_view what) {
  return Send(request, what, [](const nlmsghdr&) { return absl::OkStatus(); });
}

absl::Status NetlinkSocket::Send(Request& request, absl::string_view what, ReplyHandler on_reply) {
  const absl::StatusOr<Answer> answer = Exchange(*request.header(), what, on_reply);
  return answer.ok() ? answer->status : answer.status();
}

absl::StatusOr<NetlinkSocket::Answer> NetlinkSocket::Exchange(nlmsghdr& request,
                                                              absl::string_view what,
                                                              ReplyHandler on_reply) {
  request.nlmsg_seq = ++last_seq_;
  request.nlmsg_pid = 0;
  while (mnl_socket_sendto(socket_, &request, request.nlmsg_len) < 0) {
    if (errno != EINTR) return ErrnoStatus(errno, what);
  }
  return ReadAnswer(request.nlmsg_seq, request.nlmsg_flags, what, on_reply);
}

absl::StatusOr<NetlinkSocket::Answer> NetlinkSocket::ReadAnswer(uint32_t seq,
                                                                uint16_t request_flags,
                                                                absl::string_view what,
                                                                ReplyHandler on_reply) {
  const bool dump = (request_flags & NLM_F_DUMP) == NLM_F_DUMP;
  const bool ack = (request_flags & NLM_F_ACK) != 0;
  absl::Status handler_status;
  bool interrupted = false;
  // What the answer amounts to once its last message has arrived.
  auto finish = [&](const KernelError& end) -> Answer {
    if (end.error != 0) return {ErrnoStatus(end.error, what, end.message)};
    if (interrupted) {
      return {
          absl::AbortedError(absl::StrCat(what, ": the kernel's tables changed during the dump"))};
    }
    return {Annotate(handler_status, what)};
  };
  while (true) {
    const ssize_t received = mnl_socket_recvfrom(socket_, buffer_.data(), buffer_.size());
    if (received < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, absl::StrCat(what, ": reading the answer"));
    }
    int remaining = static_cast<int>(received);
    for (auto* message = reinterpret_cast<const nlmsghdr*>(buffer_.data());
         mnl_nlmsg_ok(message, remaining); message = mnl_nlmsg_next(message, &remaining)) {
      if (message->nlmsg_seq != seq || !mnl_nlmsg_portid_ok(message, port_id_)) continue;
      if (message->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
      switch (message->nlmsg_type) {
        case NLMSG_NOOP:
          continue;
        case NLMSG_OVERRUN:
          return ErrnoStatus(ENOBUFS, what);
        case NLMSG_ERROR:
        case NLMSG_DONE: {
          const absl::StatusOr<KernelError> end =
              message->nlmsg_type == NLMSG_ERROR ? DecodeError(*message) : DecodeDone(*message);
          if (!end.ok()) return Annotate(end.status(), what);
          return finish(*end);
        }
        default:
          if (handler_status.ok()) handler_status = on_reply(*message);
          if (!dump && !ack) return finish({});
      }
    }
  }
}

}  // namespace weave::netlink
