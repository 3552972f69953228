#include "common/kube/backoff.h"

#include <catch2/catch.hpp>

#include "common/kube/log_limiter.h"

namespace weave::kube {
namespace {

TEST_CASE("back-off doubles from 1 s to 30 s and starts over after Reset", "[kube]") {
  Backoff backoff(BackoffPolicy{.jitter = 0});
  std::vector<int64_t> seconds;
  for (int i = 0; i < 8; ++i) seconds.push_back(absl::ToInt64Seconds(backoff.Next()));
  CHECK(seconds == std::vector<int64_t>{1, 2, 4, 8, 16, 30, 30, 30});
  backoff.Reset();
  CHECK(backoff.Next() == absl::Seconds(1));
}

TEST_CASE("jitter spreads each delay by up to its fraction", "[kube]") {
  double next = 0;
  Backoff backoff(BackoffPolicy{.jitter = 0.2}, [&next] { return next; });
  next = 0;  // the low end
  CHECK(backoff.Next() == absl::Milliseconds(800));
  next = 0.5;  // the middle
  CHECK(backoff.Next() == absl::Seconds(2));
  next = 0.999999;
  absl::Duration high = backoff.Next();
  CHECK(high > absl::Milliseconds(4790));
  CHECK(high < absl::Milliseconds(4800));
  Backoff system(BackoffPolicy{});
  for (int i = 0; i < 100; ++i) CHECK(system.Next() <= absl::Seconds(36));
}

TEST_CASE("LogLimiter lets one line through per interval and counts the rest", "[kube]") {
  LogLimiter limiter(absl::Seconds(30));
  absl::Time t = absl::FromUnixSeconds(1000);
  int held_back = -1;
  CHECK(limiter.Allow(t, held_back));
  CHECK(held_back == 0);
  CHECK_FALSE(limiter.Allow(t + absl::Seconds(1), held_back));
  CHECK_FALSE(limiter.Allow(t + absl::Seconds(29), held_back));
  CHECK(limiter.Allow(t + absl::Seconds(30), held_back));
  CHECK(held_back == 2);
  CHECK_FALSE(limiter.Allow(t + absl::Seconds(31), held_back));
  limiter.Reset();
  CHECK(limiter.Allow(t + absl::Seconds(32), held_back));
  CHECK(held_back == 0);
}

}  // namespace
}  // namespace weave::kube
