#include "test/harness/wait_for.h"

#include <catch2/catch.hpp>

#include "test/harness/deadline.h"
#include "test/harness/status_assertions.h"

namespace weave::testing {
namespace {

using ::Catch::Matchers::Contains;

TEST_CASE("WaitFor returns as soon as the condition holds") {
  int calls = 0;
  CHECK_OK(WaitFor([&] { return ++calls == 3; }, absl::Seconds(10), "the third call"));
  CHECK(calls == 3);
}

TEST_CASE("WaitFor does not sleep when the condition already holds") {
  int calls = 0;
  CHECK_OK(WaitFor([&] { return ++calls > 0; }, absl::ZeroDuration(), "anything"));
  CHECK(calls == 1);
}

TEST_CASE("WaitFor names what it waited for when the deadline passes") {
  int calls = 0;
  const absl::Status status = WaitFor(
      [&] {
        ++calls;
        return false;
      },
      absl::Milliseconds(100), "the moon to turn blue");
  CHECK(status.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK_THAT(std::string(status.message()), Contains("the moon to turn blue"));
  CHECK(calls >= 2);  // Once at the start and once more at the deadline.
}

TEST_CASE("Deadline counts down and survives an infinite timeout") {
  CHECK(Deadline(absl::ZeroDuration()).Expired());
  CHECK(Deadline(absl::ZeroDuration()).PollTimeoutMs() == 0);
  const Deadline soon(absl::Seconds(5));
  CHECK_FALSE(soon.Expired());
  CHECK(soon.Remaining() <= absl::Seconds(5));
  CHECK(soon.PollTimeoutMs() <= 5000);
  const Deadline never(absl::InfiniteDuration());
  CHECK_FALSE(never.Expired());
  CHECK(never.Remaining() > absl::Hours(24));
}

}  // namespace
}  // namespace weave::testing
