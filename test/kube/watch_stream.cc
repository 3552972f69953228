#include "test/kube/watch_stream.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace weave::testing::kube {

WatchStream::WatchStream(std::unique_ptr<Watcher> watcher, const ResourceType& type,
                         WatchStreamOptions options, const std::atomic<bool>* stopping)
    : watcher_(std::move(watcher)),
      type_(type),
      options_(options),
      stopping_(stopping),
      end_(absl::Now() + options.timeout),
      next_bookmark_(absl::Now() + options.bookmark_interval) {}

WatchStream::Step WatchStream::Pump(const std::function<bool(absl::string_view)>& write) {
  const absl::Time now = absl::Now();
  if ((stopping_ && stopping_->load()) || now >= end_) return Step::kDone;
  absl::Duration wait = std::min(options_.poll, end_ - now);
  if (options_.bookmark_interval > absl::ZeroDuration()) {
    wait = std::clamp(next_bookmark_ - now, absl::ZeroDuration(), wait);
  }
  Watcher::Batch batch = watcher_->Next(wait);
  for (const nlohmann::json& event : batch.events) {
    if (!write(event.dump() + "\n")) return Step::kBroken;
  }
  if (batch.closed) return Step::kDone;
  if (options_.bookmark_interval > absl::ZeroDuration() && absl::Now() >= next_bookmark_) {
    const nlohmann::json bookmark = BookmarkEvent(type_, watcher_->resource_version(), false);
    if (!write(bookmark.dump() + "\n")) return Step::kBroken;
    next_bookmark_ = absl::Now() + options_.bookmark_interval;
  }
  return Step::kMore;
}

}  // namespace weave::testing::kube
