// Layer 3 of the adapter: one netlink socket that sends a request and reads its answer, for
// rtnetlink (NETLINK_ROUTE) and for the netfilter subsystems (NETLINK_NETFILTER: ctnetlink).
// Internal to common/netlink.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/netlink/message.h"

struct mnl_socket;

namespace weave::netlink {

// A netlink socket of one protocol, bound to the network namespace of the thread that opened it,
// for its whole life. Requests are numbered; answers to earlier requests that were abandoned are
// skipped. Extended acks (the kernel's error text) and capped acks are turned on where the kernel
// has them, and for rtnetlink strict checking (so that dumps are filtered in the kernel).
//
// Thread-compatible: one request at a time.
class NetlinkSocket {
 public:
  using ReplyHandler = absl::FunctionRef<absl::Status(const nlmsghdr&)>;

  // `protocol` is NETLINK_ROUTE or NETLINK_NETFILTER. Errors name what failed: "opening rtnetlink
  // socket: EPERM", "opening nfnetlink socket: EPERM".
  static absl::StatusOr<std::unique_ptr<NetlinkSocket>> Open(int protocol = NETLINK_ROUTE);

  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  ~NetlinkSocket();

  // How the kernel answered a request that reached it: OK; its error, as ErrnoStatus(error, what,
  // extended-ack text); Aborted for a dump the kernel marks inconsistent (NLM_F_DUMP_INTR: it
  // changed meanwhile; callers retry it); or else the first error of the ReplyHandler. The socket
  // is ready for the next request whatever the answer.
  struct Answer {
    absl::Status status;
  };

  // Stamps the request (the message `request` heads, nlmsg_len bytes) with the next sequence
  // number, sends it and reads its whole answer, passing every data message to `on_reply`: for
  // NLM_F_DUMP everything up to NLMSG_DONE, for NLM_F_ACK nothing (the ack is the answer),
  // otherwise the one reply. The first error of `on_reply` is kept until the answer has been read
  // in full, so that the next request starts clean. An error (rather than an Answer) is the
  // socket's own: sending or receiving failed, the kernel dropped messages (ENOBUFS) or its
  // answer was garbled. The socket's state is then unknown and further requests are pointless.
  absl::StatusOr<Answer> Exchange(nlmsghdr& request, absl::string_view what, ReplyHandler on_reply);

  // Exchange, for callers to whom a refusal and a broken socket are alike: either error, or the
  // Answer's.
  absl::Status Send(Request& request, absl::string_view what, ReplyHandler on_reply);
  absl::Status Send(Request& request, absl::string_view what);

 private:
  NetlinkSocket(mnl_socket* socket, uint32_t port_id);

  // Reads datagrams until the answer to `seq` is complete.
  absl::StatusOr<Answer> ReadAnswer(uint32_t seq, uint16_t request_flags, absl::string_view what,
                                    ReplyHandler on_reply);

  mnl_socket* const socket_;
  const uint32_t port_id_;
  uint32_t last_seq_ = 0;
  std::vector<uint8_t> buffer_;
};

}  // namespace weave::netlink
