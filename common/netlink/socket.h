// Layer 3 of the adapter: one NETLINK_ROUTE socket that sends a request and reads its answer.
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

// A NETLINK_ROUTE socket bound to the network namespace of the thread that opened it, for its
// whole life. Requests are numbered; answers to earlier requests that were abandoned are skipped.
// Extended acks (the kernel's error text), capped acks and strict checking (so that dumps are
// filtered in the kernel) are turned on where the kernel has them.
//
// Thread-compatible: one request at a time.
class NetlinkSocket {
 public:
  using ReplyHandler = absl::FunctionRef<absl::Status(const nlmsghdr&)>;

  // Errors name what failed: "opening rtnetlink socket: EPERM".
  static absl::StatusOr<std::unique_ptr<NetlinkSocket>> Open();

  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  ~NetlinkSocket();

  // Stamps `request` with the next sequence number, sends it and reads its whole answer, passing
  // every data message to `on_reply`: for NLM_F_DUMP everything up to NLMSG_DONE, for NLM_F_ACK
  // nothing (the ack is the answer), otherwise the one reply. A kernel error becomes
  // ErrnoStatus(error, what, extended-ack text). The first error of `on_reply` is returned once
  // the answer has been read in full, so that the next request starts clean. A dump the kernel
  // marks inconsistent (NLM_F_DUMP_INTR: it changed meanwhile) is Aborted; callers retry it.
  absl::Status Send(Request& request, absl::string_view what, ReplyHandler on_reply);
  absl::Status Send(Request& request, absl::string_view what);

 private:
  NetlinkSocket(mnl_socket* socket, uint32_t port_id);

  // Reads datagrams until the answer to `seq` is complete.
  absl::Status ReadAnswer(uint32_t seq, uint16_t request_flags, absl::string_view what,
                          ReplyHandler on_reply);

  mnl_socket* const socket_;
  const uint32_t port_id_;
  uint32_t last_seq_ = 0;
  std::vector<uint8_t> buffer_;
};

}  // namespace weave::netlink
