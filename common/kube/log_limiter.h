// Lets one log line through per interval and counts the ones held back, so that a reflector
// retrying against a broken server logs a line now and then rather than a line per attempt.
#pragma once

#include "absl/time/time.h"

namespace weave::kube {

// Not thread-safe.
class LogLimiter {
 public:
  explicit LogLimiter(absl::Duration interval) : interval_(interval) {}

  // True if a line may be logged at `now`; then `held_back` is how many were not since the last.
  bool Allow(absl::Time now, int& held_back);

  // Lines held back since the last one allowed.
  int held_back() const { return held_back_; }

  // After a recovery: the next line goes through at once.
  void Reset();

 private:
  const absl::Duration interval_;
  absl::Time last_ = absl::InfinitePast();
  int held_back_ = 0;
};

}  // namespace weave::kube
