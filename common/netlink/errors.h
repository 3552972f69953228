// How the adapter turns errno into absl::Status, once, with what was being done. Shared by the
// kernel adapter and FakeNetlink so that both fail with the same codes and the same wording.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace weave::netlink {

// The Status for an operation that failed with `error` (a positive errno):
//   "adding veth0 to bridge weave: EEXIST", or with the kernel's extended-ack text `detail`,
//   "adding route default via 10.1.0.1 dev eth0: ENETUNREACH (Nexthop has invalid gateway)".
// Codes: EEXIST -> AlreadyExists; ENOENT, ENODEV, ESRCH, ENXIO, EADDRNOTAVAIL -> NotFound (what
// rtnetlink answers for a missing link, route or address); EPERM, EACCES -> PermissionDenied;
// EINVAL, ERANGE, E2BIG, ELOOP -> InvalidArgument; EOPNOTSUPP, ENETDOWN, ENETUNREACH ->
// FailedPrecondition (the request does not fit the state: not a bridge port, device down, no route
// to the gateway); EBUSY, EAGAIN, EINTR -> Unavailable; ENOBUFS, ENOMEM, ENOSPC ->
// ResourceExhausted; anything else as absl::ErrnoToStatusCode.
absl::Status ErrnoStatus(int error, absl::string_view what, absl::string_view detail = {});

// `status` with "<what>: " in front of its message and the same code; OK stays OK. For an error
// of an inner step: "adding eth0 to bridge weave: getting link weave: ENODEV".
absl::Status Annotate(const absl::Status& status, absl::string_view what);

}  // namespace weave::netlink
