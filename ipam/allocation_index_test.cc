#include "ipam/allocation_index.h"

#include <catch2/catch.hpp>

namespace weave::ipam {
namespace {

Allocation Held(const std::string& container, const std::string& ifname, const std::string& ip) {
  return {container, ifname, *net::Cidr::Parse(ip + "/24"), "", ""};
}

TEST_CASE("AllocationIndex finds by owner and address and removes a container's interfaces",
          "[ipam]") {
  AllocationIndex index;
  index.Add(Held("a", "eth0", "10.0.0.1"));
  index.Add(Held("a", "eth1", "10.0.0.2"));
  index.Add(Held("ab", "eth0", "10.0.0.3"));
  REQUIRE(index.FindOwner("a", "eth1") != nullptr);
  CHECK(index.FindOwner("a", "eth1")->address.address().ToString() == "10.0.0.2");
  CHECK(index.FindAddress(*net::Ipv4::Parse("10.0.0.3"))->container_id == "ab");
  CHECK(index.FindOwner("a", "eth2") == nullptr);
  CHECK(index.AnyIn(0x0a000003, 0x0a000004));
  CHECK_FALSE(index.AnyIn(0x0a000004, 0x0a0000ff));

  CHECK_FALSE(index.Holds("b", ""));
  CHECK(index.Remove("b", "").empty());
  // An empty ifname is every interface of that container, and only of that one.
  std::vector<net::Ipv4> removed = index.Remove("a", "");
  CHECK(removed.size() == 2);
  CHECK(index.size() == 1);
  CHECK(index.Holds("ab", "eth0"));
  CHECK(index.Remove("ab", "eth0").size() == 1);
  CHECK(index.empty());
}

}  // namespace
}  // namespace weave::ipam
