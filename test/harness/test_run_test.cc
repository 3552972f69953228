#include "test/harness/test_run.h"

#include <catch2/catch.hpp>

namespace weave::testing {
namespace {

TEST_CASE("A run's resources are named after its pid") {
  CHECK(RunPrefix(1234) == "wvt1234");
  CHECK(RunWorkDir(1234) == "/tmp/wvt1234");
}

TEST_CASE("ParseRunPid reads the pid from names a run creates and from nothing else") {
  CHECK(ParseRunPid("wvt1234") == 1234);
  CHECK(ParseRunPid("wvt1234-u") == 1234);
  CHECK(ParseRunPid("wvt1234-n12") == 1234);
  CHECK(ParseRunPid("wvt-unit-1234-0") == std::nullopt);
  CHECK(ParseRunPid("wvt") == std::nullopt);
  CHECK(ParseRunPid("wvt0") == std::nullopt);
  CHECK(ParseRunPid("wvt12x-u") == std::nullopt);
  CHECK(ParseRunPid("wvt+12-u") == std::nullopt);
  CHECK(ParseRunPid("wvt99999999999999999999") == std::nullopt);
  CHECK(ParseRunPid("cni-1234") == std::nullopt);
  CHECK(ParseRunPid("xwvt1234") == std::nullopt);
}

}  // namespace
}  // namespace weave::testing
