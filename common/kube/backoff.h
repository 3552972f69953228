// Delays between retries: from `initial`, times `multiplier` after each failure, up to `max`, each
// spread by up to ±jitter of itself so that the agents of many nodes do not retry in step.
#pragma once

#include <functional>

#include "absl/time/time.h"

namespace weave::kube {

struct BackoffPolicy {
  absl::Duration initial = absl::Seconds(1);
  absl::Duration max = absl::Seconds(30);
  double multiplier = 2;
  double jitter = 0.2;  // 0..1
};

// Not thread-safe.
class Backoff {
 public:
  // `random` returns numbers uniform in [0, 1); null: an absl::BitGen.
  explicit Backoff(BackoffPolicy policy, std::function<double()> random = nullptr);

  absl::Duration Next();  // the delay before the next attempt
  void Reset();           // after a success: the next delay is `initial` again

 private:
  const BackoffPolicy policy_;
  std::function<double()> random_;
  absl::Duration current_;
};

// Uniform in [0, 1), from a generator seeded by the system.
std::function<double()> SystemRandom();

}  // namespace weave::kube
