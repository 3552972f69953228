#include "router/net/range_check.h"

#include <catch2/catch.hpp>

namespace weave::router {
namespace {

netlink::Route R(const char* dst, const char* dev) {
  return {*net::Cidr::Parse(dst), std::nullopt, dev};
}

TEST_CASE("a range overlapping a host route is refused with one line", "[range]") {
  net::Cidr range = *net::Cidr::Parse("10.32.0.0/12");
  std::vector<netlink::Route> routes = {R("0.0.0.0/0", "eth0"), R("10.32.0.0/12", "weave"),
                                        R("192.168.1.0/24", "eth0")};
  CHECK(CheckRangeIsFree(range, routes, "weave").ok());
  routes.push_back(R("10.0.0.0/8", "eth1"));
  absl::Status refused = CheckRangeIsFree(range, routes, "weave");
  CHECK(refused.message() ==
        "IPALLOC_RANGE 10.32.0.0/12 overlaps the host route 10.0.0.0/8 dev eth1; choose a free "
        "range with IPALLOC_RANGE");
  CHECK(FindOverlappingRoute(*net::Cidr::Parse("10.40.1.0/24"), {R("10.40.0.0/16", "x")}, "weave"));
}

}  // namespace
}  // namespace weave::router
