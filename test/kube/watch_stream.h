// The body of a WATCH response: one JSON event per line ({"type":...,"object":...}\n), with
// BOOKMARKs at an interval when the client allowed them, ending cleanly after the client's
// timeoutSeconds, when the store closes its watches, or when the server stops. Independent of
// HTTP: the server pumps it into a chunked response. Driven by one thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "test/kube/resources.h"
#include "test/kube/store.h"

namespace weave::testing::kube {

struct WatchStreamOptions {
  absl::Duration timeout = absl::Minutes(30);               // from timeoutSeconds
  absl::Duration bookmark_interval = absl::ZeroDuration();  // zero: no bookmarks
  // How long one Pump may wait for events: bounds how late a stop or a timeout is noticed.
  absl::Duration poll = absl::Milliseconds(100);
};

class WatchStream {
 public:
  // `stopping` (owned by the server, may be null) ends the stream when set.
  WatchStream(std::unique_ptr<Watcher> watcher, const ResourceType& type,
              WatchStreamOptions options, const std::atomic<bool>* stopping);

  enum class Step {
    kMore,    // call Pump again
    kDone,    // the stream ended cleanly
    kBroken,  // a write failed: the client is gone
  };
  // Waits up to options.poll for events and writes what there is through `write` (false from
  // `write` means the connection failed).
  Step Pump(const std::function<bool(absl::string_view)>& write);

 private:
  std::unique_ptr<Watcher> watcher_;
  const ResourceType& type_;
  const WatchStreamOptions options_;
  const std::atomic<bool>* stopping_;
  const absl::Time end_;
  absl::Time next_bookmark_;
};

}  // namespace weave::testing::kube
