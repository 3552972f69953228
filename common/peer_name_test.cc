#include "common/peer_name.h"

#include <catch2/catch.hpp>

namespace weave {
namespace {

TEST_CASE("PeerName round-trips MAC text", "[peer_name]") {
  auto name = PeerName::Parse("42:8E:e8:c4:52:1b");
  REQUIRE(name.ok());
  CHECK(name->value() == 0x428ee8c4521bULL);
  CHECK(name->ToString() == "42:8e:e8:c4:52:1b");
}

TEST_CASE("PeerName expands :: abbreviations", "[peer_name]") {
  CHECK(PeerName::Parse("::1")->ToString() == "00:00:00:00:00:01");
  CHECK(PeerName::Parse("a::")->ToString() == "0a:00:00:00:00:00");
  CHECK(PeerName::Parse("1:2::3")->ToString() == "01:02:00:00:00:03");
}

TEST_CASE("PeerName rejects malformed names", "[peer_name]") {
  for (const char* bad : {"", "42:8e:e8:c4:52", "42:8e:e8:c4:52:1b:00", "::1::", "123::",
                          "zz::", "1:2:3:4:5::6", "42-8e-e8-c4-52-1b"}) {
    INFO(bad);
    CHECK_FALSE(PeerName::Parse(bad).ok());
  }
}

}  // namespace
}  // namespace weave
