#include "common/kube/log_limiter.h"

namespace weave::kube {

bool LogLimiter::Allow(absl::Time now, int& held_back) {
  if (now - last_ < interval_) {
    ++held_back_;
    return false;
  }
  held_back = held_back_;
  held_back_ = 0;
  last_ = now;
  return true;
}

void LogLimiter::Reset() {
  last_ = absl::InfinitePast();
  held_back_ = 0;
}

}  // namespace weave::kube
