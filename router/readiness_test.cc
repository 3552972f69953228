#include "router/readiness.h"

#include <catch2/catch.hpp>

namespace weave::router {
namespace {

TEST_CASE("ready only when every declared condition holds", "[readiness]") {
  Readiness readiness({"api", "ipam"});
  CHECK_FALSE(readiness.Ready());
  CHECK(readiness.NotReady() == std::vector<std::string>{"api", "ipam"});
  readiness.Set("api", true);
  CHECK(readiness.NotReady() == std::vector<std::string>{"ipam"});
  readiness.Set("ipam", true);
  CHECK(readiness.Ready());
  readiness.Set("api", false);
  CHECK_FALSE(readiness.Ready());
}

}  // namespace
}  // namespace weave::router
