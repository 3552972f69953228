#pragma once

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>

#include "absl/time/time.h"

namespace weave::testing {

// A point in time on the monotonic clock, so that waits are not fooled by wall-clock steps.
// A value type; not synchronized (each waiter makes its own).
class Deadline {
 public:
  // Timeouts above a year (including absl::InfiniteDuration()) are clamped to a year.
  explicit Deadline(absl::Duration timeout)
      : end_(Clock::now() +
             absl::ToChronoNanoseconds(std::clamp(timeout, absl::ZeroDuration(), kLongest))) {}

  // Time left, never negative.
  absl::Duration Remaining() const {
    return std::max(absl::FromChrono(end_ - Clock::now()), absl::ZeroDuration());
  }

  bool Expired() const { return Clock::now() >= end_; }

  // Remaining() in whole milliseconds rounded up, as poll(2) wants it.
  int PollTimeoutMs() const {
    const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(Remaining(), absl::Milliseconds(1)));
    return static_cast<int>(std::min<int64_t>(ms, INT_MAX));
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr absl::Duration kLongest = absl::Hours(24 * 365);

  Clock::time_point end_;
};

}  // namespace weave::testing
