#include "ipam/space.h"

#include <catch2/catch.hpp>

namespace weave::ipam {
namespace {

net::Ipv4 Ip(const char* text) { return *net::Ipv4::Parse(text); }

TEST_CASE("Space hands out the lowest free address and takes holes back", "[ipam]") {
  Space space;
  CHECK_FALSE(space.Lowest().has_value());
  space.AddFree(Ip("10.0.0.1"), Ip("10.0.0.6"));
  CHECK(space.FreeCount() == 6);
  CHECK(space.Lowest() == Ip("10.0.0.1"));

  CHECK(space.Take(Ip("10.0.0.1")));
  CHECK(space.Take(Ip("10.0.0.3")));  // splits the interval
  CHECK_FALSE(space.Take(Ip("10.0.0.3")));
  CHECK_FALSE(space.Take(Ip("10.0.0.7")));  // never added
  CHECK(space.Lowest() == Ip("10.0.0.2"));
  CHECK(space.FreeCount() == 4);
  CHECK(space.Take(Ip("10.0.0.2")));
  CHECK(space.Lowest() == Ip("10.0.0.4"));

  CHECK(space.Free(Ip("10.0.0.2")));
  CHECK_FALSE(space.Free(Ip("10.0.0.2")));
  CHECK(space.Lowest() == Ip("10.0.0.2"));
  CHECK(space.IsFree(Ip("10.0.0.2")));
  CHECK_FALSE(space.IsFree(Ip("10.0.0.3")));
  CHECK(space.FreeCount() == 4);
}

TEST_CASE("Space merges freed neighbours back into one interval", "[ipam]") {
  Space space;
  space.AddFree(Ip("10.0.0.1"), Ip("10.0.0.3"));
  for (const char* ip : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) REQUIRE(space.Take(Ip(ip)));
  CHECK(space.FreeCount() == 0);
  CHECK_FALSE(space.Lowest().has_value());
  for (const char* ip : {"10.0.0.3", "10.0.0.1", "10.0.0.2"}) REQUIRE(space.Free(Ip(ip)));
  CHECK(space.FreeCount() == 3);
  // One interval again: taking every address in order leaves nothing behind.
  for (const char* ip : {"10.0.0.1", "10.0.0.2", "10.0.0.3"}) {
    CHECK(space.Lowest() == Ip(ip));
    REQUIRE(space.Take(Ip(ip)));
  }
  CHECK_FALSE(space.Lowest().has_value());
}

TEST_CASE("Space copes with the ends of the address space", "[ipam]") {
  Space space;
  space.AddFree(Ip("255.255.255.254"), Ip("255.255.255.255"));
  space.AddFree(Ip("0.0.0.0"), Ip("0.0.0.0"));
  CHECK(space.FreeCount() == 3);
  CHECK(space.Take(Ip("255.255.255.255")));
  CHECK(space.Free(Ip("255.255.255.255")));
  CHECK(space.Take(Ip("0.0.0.0")));
  CHECK(space.Lowest() == Ip("255.255.255.254"));
}

}  // namespace
}  // namespace weave::ipam
