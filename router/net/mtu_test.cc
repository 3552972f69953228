#include "router/net/mtu.h"

#include <catch2/catch.hpp>

#include "common/netlink/fake_netlink.h"

namespace weave::router {
namespace {

net::Ipv4 Ip(const char* text) { return *net::Ipv4::Parse(text); }

netlink::Route Via(const char* dst, const char* dev) {
  return {*net::Cidr::Parse(dst), std::nullopt, dev};
}

TEST_CASE("RouteDevice picks the longest matching prefix", "[mtu]") {
  std::vector<netlink::Route> routes = {Via("0.0.0.0/0", "eth0"), Via("192.168.0.0/16", "eth1"),
                                        Via("192.168.7.0/24", "jumbo")};
  CHECK(RouteDevice(routes, Ip("192.168.7.9")) == "jumbo");
  CHECK(RouteDevice(routes, Ip("192.168.8.9")) == "eth1");
  CHECK(RouteDevice(routes, Ip("10.0.0.1")) == "eth0");
  CHECK_FALSE(RouteDevice({Via("10.0.0.0/8", "eth0")}, Ip("11.0.0.1")).has_value());
}

TEST_CASE("AutoMtu subtracts VXLAN's overhead from the interface that reaches the peers",
          "[mtu]") {
  netlink::FakeNetlink host;
  REQUIRE(host.CreateBridge("jumbo", 9000).ok());
  REQUIRE(host.SetMtu("jumbo", 9000).ok());
  REQUIRE(host.SetUp("jumbo", true).ok());
  REQUIRE(host.AddAddress("jumbo", *net::Cidr::Parse("192.168.7.1/24")).ok());
  REQUIRE(host.CreateBridge("small", 1400).ok());
  REQUIRE(host.SetMtu("small", 1400).ok());
  REQUIRE(host.SetUp("small", true).ok());
  REQUIRE(host.AddAddress("small", *net::Cidr::Parse("10.1.0.1/16")).ok());

  CHECK(*AutoMtu(host, {Ip("192.168.7.2")}) == 8950);
  // Peers behind two interfaces: the smaller one decides.
  CHECK(*AutoMtu(host, {Ip("192.168.7.2"), Ip("10.1.0.7")}) == 1350);
  // No route to any peer and no default route: the operator must say.
  absl::StatusOr<int> unknown = AutoMtu(host, {Ip("172.16.0.1")});
  CHECK(absl::IsFailedPrecondition(unknown.status()));
  // No peers: the default route's interface.
  REQUIRE(host.AddRoute({*net::Cidr::Parse("0.0.0.0/0"), Ip("10.1.0.254"), ""}).ok());
  CHECK(*AutoMtu(host, {}) == 1350);
}

}  // namespace
}  // namespace weave::router
