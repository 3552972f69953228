#include "common/netlink/errors.h"

#include <string.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace weave::netlink {
namespace {

absl::StatusCode CodeForErrno(int error) {
  switch (error) {
    case EEXIST:
      return absl::StatusCode::kAlreadyExists;
    case ENOENT:
    case ENODEV:
    case ESRCH:
    case ENXIO:
    case EADDRNOTAVAIL:
      return absl::StatusCode::kNotFound;
    case EPERM:
    case EACCES:
      return absl::StatusCode::kPermissionDenied;
    case EINVAL:
    case ERANGE:
    case E2BIG:
    case ELOOP:
      return absl::StatusCode::kInvalidArgument;
    case EOPNOTSUPP:
    case ENETDOWN:
    case ENETUNREACH:
      return absl::StatusCode::kFailedPrecondition;
    case EBUSY:
    case EAGAIN:
    case EINTR:
      return absl::StatusCode::kUnavailable;
    case ENOBUFS:
    case ENOMEM:
    case ENOSPC:
      return absl::StatusCode::kResourceExhausted;
    default:
      return absl::ErrnoToStatusCode(error);
  }
}

}  // namespace

absl::Status ErrnoStatus(int error, absl::string_view what, absl::string_view detail) {
  const char* name = strerrorname_np(error);
  std::string message =
      absl::StrCat(what, ": ", name != nullptr ? name : absl::StrCat("errno ", error));
  if (!detail.empty()) absl::StrAppend(&message, " (", detail, ")");
  return absl::Status(CodeForErrno(error), message);
}

absl::Status Annotate(const absl::Status& status, absl::string_view what) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(what, ": ", status.message()));
}

}  // namespace weave::netlink
