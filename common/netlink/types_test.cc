#include "common/netlink/types.h"

#include <catch2/catch.hpp>

#include "test/harness/status_assertions.h"

namespace weave::netlink {
namespace {

TEST_CASE("netlink: MAC addresses format and parse", "[netlink]") {
  const MacAddress mac = {0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f};
  CHECK(FormatMac(mac) == "0a:1b:2c:3d:4e:5f");
  ASSIGN_OR_REQUIRE(const MacAddress parsed, ParseMac("0A:1b:2c:3d:4e:5f"));
  CHECK(parsed == mac);
  for (const char* bad : {"", "0a:1b:2c:3d:4e", "0a:1b:2c:3d:4e:5f:60", "0a:1b:2c:3d:4e:5",
                          "0a-1b-2c-3d-4e-5f", "0a:1b:2c:3d:4e:zz", "+a:1b:2c:3d:4e:5f"}) {
    INFO(bad);
    CHECK(ParseMac(bad).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("netlink: link names follow the kernel's rule", "[netlink]") {
  CHECK_OK(ValidateLinkName("weave"));
  CHECK_OK(ValidateLinkName("vethwepl1a2b3c4"));  // 15 bytes
  for (const char* bad : {"", ".", "..", "vethwepl1a2b3c4d", "a/b", "a:b", "a b", "a\tb"}) {
    INFO(bad);
    CHECK(ValidateLinkName(bad).code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("netlink: routes print as ip route does and are validated before sending", "[netlink]") {
  const net::Cidr any = *net::Cidr::Parse("0.0.0.0/0");
  const net::Ipv4 gateway = *net::Ipv4::Parse("10.32.0.1");
  CHECK(Route{any, gateway, "eth0"}.ToString() == "default via 10.32.0.1 dev eth0");
  CHECK(Route{*net::Cidr::Parse("10.32.0.0/12"), std::nullopt, "weave"}.ToString() ==
        "10.32.0.0/12 dev weave");
  CHECK(Route{*net::Cidr::Parse("10.0.0.0/8"), gateway, ""}.ToString() ==
        "10.0.0.0/8 via 10.32.0.1");

  CHECK_OK(ValidateRoute({any, gateway, ""}));
  CHECK_OK(ValidateRoute({any, std::nullopt, "eth0"}));
  CHECK(ValidateRoute({any, std::nullopt, ""}).code() == absl::StatusCode::kInvalidArgument);
  CHECK(ValidateRoute({*net::Cidr::Parse("10.32.0.1/12"), gateway, ""}).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ValidateRoute({any, gateway, "bad/name"}).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("netlink: interfaces take unicast MAC addresses only", "[netlink]") {
  CHECK_OK(ValidateUnicastMac({0x02, 0, 0, 0, 0, 1}));
  CHECK(ValidateUnicastMac({0x01, 0, 0x5e, 0, 0, 1}).code() == absl::StatusCode::kInvalidArgument);
  CHECK(ValidateUnicastMac({}).code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace weave::netlink
