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

TEST_CASE("netlink: VXLAN specs are validated before sending", "[netlink]") {
  const VxlanSpec spec{.name = "vxlan-weave", .vni = 0xffffff, .port = 4789, .mtu = 1376};
  CHECK_OK(ValidateVxlanSpec(spec));
  VxlanSpec too_big = spec;
  too_big.vni = 1 << 24;
  CHECK(ValidateVxlanSpec(too_big).message() ==
        "VNI 16777216 does not fit in 24 bits (at most "
        "16777215)");
  VxlanSpec no_port = spec;
  no_port.port = 0;
  CHECK(ValidateVxlanSpec(no_port).code() == absl::StatusCode::kInvalidArgument);
  VxlanSpec bad_name = spec;
  bad_name.name = "vxlan-weave-too-long";
  CHECK(ValidateVxlanSpec(bad_name).code() == absl::StatusCode::kInvalidArgument);

  CHECK_OK(ValidateIsVxlan({.name = "vx0", .kind = "vxlan"}));
  const absl::Status bridge = ValidateIsVxlan({.name = "weave", .kind = "bridge"});
  CHECK(bridge.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(bridge.message() == "weave is not a VXLAN device (its kind is \"bridge\")");
}

TEST_CASE("netlink: FDB entries print as bridge fdb show does", "[netlink]") {
  const net::Ipv4 remote = *net::Ipv4::Parse("10.0.0.2");
  CHECK(FdbEntry{{}, remote, true, true}.ToString() ==
        "00:00:00:00:00:00 dst 10.0.0.2 self permanent");
  CHECK(FdbEntry{{0x02, 0, 0, 0, 0, 1}, std::nullopt, false, false}.ToString() ==
        "02:00:00:00:00:01 master");
}

}  // namespace
}  // namespace weave::netlink
