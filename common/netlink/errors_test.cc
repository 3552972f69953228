#include "common/netlink/errors.h"

#include <catch2/catch.hpp>
#include <cerrno>

namespace weave::netlink {
namespace {

TEST_CASE("netlink: errno becomes a Status that says what was being done", "[netlink]") {
  const absl::Status exists = ErrnoStatus(EEXIST, "adding vethwepl1a2b to bridge weave");
  CHECK(exists.code() == absl::StatusCode::kAlreadyExists);
  CHECK(exists.message() == "adding vethwepl1a2b to bridge weave: EEXIST");

  const absl::Status unreachable =
      ErrnoStatus(ENETUNREACH, "adding route default via 10.1.0.1", "Nexthop has invalid gateway");
  CHECK(unreachable.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(unreachable.message() ==
        "adding route default via 10.1.0.1: ENETUNREACH (Nexthop has invalid gateway)");

  CHECK(ErrnoStatus(ENODEV, "x").code() == absl::StatusCode::kNotFound);
  CHECK(ErrnoStatus(ESRCH, "x").code() == absl::StatusCode::kNotFound);
  CHECK(ErrnoStatus(EADDRNOTAVAIL, "x").code() == absl::StatusCode::kNotFound);
  CHECK(ErrnoStatus(EPERM, "x").code() == absl::StatusCode::kPermissionDenied);
  CHECK(ErrnoStatus(EINVAL, "x").code() == absl::StatusCode::kInvalidArgument);
  CHECK(ErrnoStatus(EOPNOTSUPP, "x").code() == absl::StatusCode::kFailedPrecondition);
  CHECK(ErrnoStatus(EBUSY, "x").code() == absl::StatusCode::kUnavailable);
  CHECK(ErrnoStatus(ENOBUFS, "x").code() == absl::StatusCode::kResourceExhausted);
  CHECK(ErrnoStatus(9999, "x").message() == "x: errno 9999");
}

TEST_CASE("netlink: Annotate prefixes an inner step's error and keeps OK", "[netlink]") {
  const absl::Status inner = ErrnoStatus(ENODEV, "getting link weave");
  const absl::Status outer = Annotate(inner, "adding eth0 to bridge weave");
  CHECK(outer.code() == absl::StatusCode::kNotFound);
  CHECK(outer.message() == "adding eth0 to bridge weave: getting link weave: ENODEV");
  CHECK(Annotate(absl::OkStatus(), "anything").ok());
}

}  // namespace
}  // namespace weave::netlink
