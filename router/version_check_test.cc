#include "router/version_check.h"

#include <atomic>
#include <catch2/catch.hpp>

#include "router/status/render.h"
#include "test/harness/wait_for.h"

namespace weave::router {
namespace {

TEST_CASE("a checkpoint answer gives the latest version or a clear error", "[version]") {
  CHECK(*ParseCheckpointAnswer(R"({"product":"weave-net","current_version":"2.9.0"})") == "2.9.0");
  CHECK_FALSE(ParseCheckpointAnswer("<html>").ok());
  CHECK_FALSE(ParseCheckpointAnswer(R"({"current_version": 3})").ok());
  CHECK_FALSE(ParseCheckpointAnswer(R"(["2.9.0"])").ok());
}

TEST_CASE("versions compare numerically part by part", "[version]") {
  CHECK(IsNewerVersion("2.10.0", "2.9.1"));
  CHECK(IsNewerVersion("v1.0.1", "1.0.0"));
  CHECK(IsNewerVersion("1.1", "1.0.9"));
  CHECK_FALSE(IsNewerVersion("1.0.0", "1.0.0"));
  CHECK_FALSE(IsNewerVersion("1.0.0-rc1", "1.0.0"));
  CHECK_FALSE(IsNewerVersion("0.9.9", "1.0.0"));
}

TEST_CASE("the checker reports what its fetch found, in the status line's words", "[version]") {
  std::atomic<int> calls = 0;
  VersionChecker newer("https://checkpoint.example/v1/weave-net", "0.1.0", absl::Hours(6),
                       [&](const std::string& url) -> absl::StatusOr<std::string> {
                         calls++;
                         CHECK(url == "https://checkpoint.example/v1/weave-net");
                         return std::string(R"({"current_version":"0.2.0"})");
                       });
  REQUIRE(testing::WaitFor([&] { return newer.Status().success(); }, absl::Seconds(5),
                           "the first check")
              .ok());
  CHECK(status::VersionCheckText(newer.Status()) == "version 0.2.0 available - please upgrade!");
  CHECK(calls == 1);

  VersionChecker failing("http://127.0.0.1:1/", "0.1.0", absl::Hours(6),
                         [](const std::string&) -> absl::StatusOr<std::string> {
                           return absl::UnavailableError("connection refused");
                         });
  REQUIRE(testing::WaitFor([&] { return failing.Status().next_check_unix_seconds() >
                                        absl::ToUnixSeconds(absl::Now() + absl::Hours(1)); },
                           absl::Seconds(5), "the failed check").ok());
  CHECK_THAT(status::VersionCheckText(failing.Status()),
             Catch::StartsWith("failed to check latest version - see logs; next check at "));
}

}  // namespace
}  // namespace weave::router
