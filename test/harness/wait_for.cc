#include "test/harness/wait_for.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "test/harness/deadline.h"

namespace weave::testing {

absl::Status WaitFor(const std::function<bool()>& condition, absl::Duration timeout,
                     absl::string_view what) {
  constexpr absl::Duration kFirstPause = absl::Milliseconds(20);
  constexpr absl::Duration kLongestPause = absl::Milliseconds(200);

  const Deadline deadline(timeout);
  absl::Duration pause = kFirstPause;
  while (!condition()) {
    if (deadline.Expired()) {
      return absl::DeadlineExceededError(
          absl::StrCat("timed out after ", absl::FormatDuration(timeout), " waiting for ", what));
    }
    absl::SleepFor(std::min(pause, deadline.Remaining()));
    pause = std::min(pause * 3 / 2, kLongestPause);
  }
  return absl::OkStatus();
}

}  // namespace weave::testing
