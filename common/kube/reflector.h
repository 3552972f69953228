// A list-watch loop (an informer): lists a collection, watches it from the list's
// resourceVersion, keeps the objects in a Store and tells an EventHandler what changed.
//
//  - Bookmarks and events advance the resourceVersion the next watch starts from; a watch ends
//    after a random 1-2 x watch_timeout (timeoutSeconds) and is started again at once.
//  - An expired resourceVersion (HTTP 410, or an ERROR event with code 410 / reason Expired)
//    makes it list again; objects gone meanwhile are reported deleted, changed ones updated.
//  - Any other failure (server down, TLS, 403, 500, HTML or invalid JSON, a stream cut short) is
//    logged (one line, at most one per log_interval, with the count held back) and retried after
//    a back-off (1 s doubling to 30 s, with jitter; reset by a list or a watch that delivers).
//    A watch that ends within short_watch without an event counts as a failure, so a server
//    that closes every watch at once is not hammered.
//
// Threading: one thread of its own, started by Start(); every handler call is made on it, in
// order, never concurrently. Stop() returns promptly (within about 100 ms) once the thread has
// ended; the handler is not called after it. Get/List/synced/resource_version may be called from
// any thread.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/kube/backoff.h"
#include "common/kube/client.h"
#include "common/kube/log_limiter.h"
#include "common/kube/store.h"

namespace weave::kube {

// Called on the Reflector's thread. Objects are as the server sent them.
class EventHandler {
 public:
  virtual ~EventHandler() = default;
  virtual void OnAdd(const Json& object) {}
  virtual void OnUpdate(const Json& old_object, const Json& new_object) {}
  virtual void OnDelete(const Json& last_known) {}
  // Once, after the changes of the first complete list have been delivered.
  virtual void OnSynced() {}
};

struct ReflectorOptions {
  std::string name;  // in logs; empty: DescribePath(path) ("nodes")
  ListOptions list = {.page_size =
                          500};  // selectors apply to the watch too; resource_version unused
  absl::Duration watch_timeout = absl::Minutes(5);
  absl::Duration short_watch = absl::Seconds(1);
  BackoffPolicy backoff;
  absl::Duration log_interval = absl::Seconds(30);
  std::function<absl::Time()> now = absl::Now;
  std::function<double()> random;  // uniform in [0, 1), for jitter; null: SystemRandom()
  // Waits between retries; null: waits for `delay` or Stop(), whichever comes first.
  std::function<void(absl::Duration delay)> sleep;
};

class Reflector {
 public:
  // `client` and `handler` must outlive the Reflector. `path` is a collection, possibly with a
  // query ("/api/v1/pods?fieldSelector=spec.nodeName=node-1"; or use options.list).
  Reflector(Client* client, std::string path, EventHandler* handler, ReflectorOptions options = {});
  ~Reflector();  // Stop()

  void Start();  // at most once
  void Stop();   // idempotent; must not be called from the handler

  bool synced() const { return synced_.load(); }
  std::string resource_version() const;
  std::optional<Json> Get(absl::string_view key) const;  // "namespace/name" or "name"
  std::vector<Json> List() const;

 private:
  void Run();
  absl::Status ListAndReplace();
  // One watch; `delivered` tells whether any event (bookmarks included) arrived.
  absl::Status WatchOnce(bool& delivered);
  void Deliver(const Change& change);
  void Wait(absl::Duration delay);
  void ReportFailure(const absl::Status& error, absl::Duration delay);
  void ReportRecovery();

  Client* const client_;
  const std::string path_;
  EventHandler* const handler_;
  const ReflectorOptions options_;
  const std::string name_;
  std::function<double()> random_;

  absl::Notification stop_;
  absl::Mutex lifecycle_mu_;  // Start and Stop
  std::thread thread_ ABSL_GUARDED_BY(lifecycle_mu_);
  std::atomic<bool> synced_{false};

  mutable absl::Mutex mu_;
  Store store_ ABSL_GUARDED_BY(mu_);
  std::string resource_version_ ABSL_GUARDED_BY(mu_);

  // The reflector thread's own.
  LogLimiter log_limiter_;
  int failures_ = 0;  // since the last success
};

}  // namespace weave::kube
