#include "common/net/ip.h"

#include <catch2/catch.hpp>

namespace weave::net {
namespace {

TEST_CASE("Ipv4 parses dotted quads only", "[ip]") {
  REQUIRE(Ipv4::Parse("10.32.0.1")->value() == 0x0a200001);
  CHECK(Ipv4::Parse("10.32.0.1")->ToString() == "10.32.0.1");
  CHECK_FALSE(Ipv4::Parse("10.32.0").ok());
  CHECK_FALSE(Ipv4::Parse("10.32.0.256").ok());
  CHECK_FALSE(Ipv4::Parse("").ok());
  CHECK_FALSE(Ipv4::Parse("abc").ok());
  CHECK_FALSE(Ipv4::Parse("10.32.0.1 ").ok());
}

TEST_CASE("Cidr parses, reports network, size and containment", "[ip]") {
  auto range = Cidr::Parse("10.32.0.0/12");
  REQUIRE(range.ok());
  CHECK(range->IsNetwork());
  CHECK(range->Size() == 1048576);
  CHECK(range->last().ToString() == "10.47.255.255");
  CHECK(range->Contains(*Ipv4::Parse("10.40.1.2")));
  CHECK_FALSE(range->Contains(*Ipv4::Parse("10.48.0.0")));
  CHECK(range->Contains(*Cidr::Parse("10.33.0.0/16")));
  CHECK_FALSE(range->Contains(*Cidr::Parse("10.0.0.0/8")));
  CHECK(range->Overlaps(*Cidr::Parse("10.0.0.0/8")));
  CHECK_FALSE(range->Overlaps(*Cidr::Parse("192.168.0.0/16")));

  auto host = Cidr::Parse("10.32.0.1/12");
  REQUIRE(host.ok());
  CHECK_FALSE(host->IsNetwork());
  CHECK(host->Network().ToString() == "10.32.0.0/12");
  CHECK(host->ToString() == "10.32.0.1/12");

  CHECK(Cidr::Parse("0.0.0.0/0")->Size() == (uint64_t{1} << 32));
  CHECK(Cidr::Parse("1.2.3.4/32")->Size() == 1);
}

TEST_CASE("Cidr rejects malformed input with the offending text", "[ip]") {
  for (const char* bad : {"10.32.0.0/33", "10.32.0.0", "10.32.0.0/", "10.32.0.0/-1",
                          "10.32.0.0/1x", "x/12", "10.32.0.0/012345"}) {
    auto parsed = Cidr::Parse(bad);
    INFO(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().message().find(bad) != absl::string_view::npos);
  }
}

TEST_CASE("HostPort parses host and port", "[ip]") {
  auto hp = HostPort::Parse("192.168.1.2:6783");
  REQUIRE(hp.ok());
  CHECK(hp->host == "192.168.1.2");
  CHECK(hp->port == 6783);
  CHECK(HostPort::Parse("node-1", 6783)->ToString() == "node-1:6783");
  CHECK_FALSE(HostPort::Parse("node-1").ok());
  CHECK_FALSE(HostPort::Parse("node-1:0").ok());
  CHECK_FALSE(HostPort::Parse("node-1:65536").ok());
  CHECK_FALSE(HostPort::Parse(":6783").ok());
  CHECK_FALSE(HostPort::Parse("a b:6783").ok());
  CHECK_FALSE(HostPort::Parse("KUBE_PEERS=", 6783).ok());
}

}  // namespace
}  // namespace weave::net
