#include "common/kube/backoff.h"

#include <algorithm>
#include <memory>

#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"

namespace weave::kube {

std::function<double()> SystemRandom() {
  struct Generator {
    absl::Mutex mu;
    absl::BitGen gen ABSL_GUARDED_BY(mu);
  };
  auto generator = std::make_shared<Generator>();
  return [generator] {
    absl::MutexLock lock(&generator->mu);
    return absl::Uniform(generator->gen, 0.0, 1.0);
  };
}

Backoff::Backoff(BackoffPolicy policy, std::function<double()> random)
    : policy_(policy),
      random_(random ? std::move(random) : SystemRandom()),
      current_(policy.initial) {}

absl::Duration Backoff::Next() {
  absl::Duration delay = current_;
  current_ = std::min(policy_.max, current_ * policy_.multiplier);
  const double spread = policy_.jitter * (2 * random_() - 1);  // -jitter..+jitter
  return std::max(absl::ZeroDuration(), delay * (1 + spread));
}

void Backoff::Reset() { current_ = policy_.initial; }

}  // namespace weave::kube
