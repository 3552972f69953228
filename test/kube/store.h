// The fake API server's storage: what etcd and the API server's registry do for the served types.
//
// Objects are JSON kept as given, keyed by type, namespace and name. One global resourceVersion
// rises by one with every write, as etcd's revision does; each object carries the revision of its
// last write in metadata.resourceVersion. The store fills metadata.uid, creationTimestamp,
// resourceVersion and (for namespaced types) namespace, and applies the registry's rules that
// clients notice:
//   - create: 409 AlreadyExists; 404 when the namespace does not exist; 422 for a bad name;
//     a pod's status starts as {"phase":"Pending"}, a namespace's as {"phase":"Active"}.
//   - update/patch: 409 Conflict when metadata.resourceVersion is given and stale; updates of a
//     type with a status subresource keep the stored status, and status updates change nothing
//     but the status; an update that changes nothing keeps the resourceVersion (no event).
//   - delete: immediate (no graceful deletion or finalizers); deleting a namespace deletes the
//     objects in it first.
//
// A bounded history of events (with each event's previous object) serves watches from a
// resourceVersion, reads at an exact older resourceVersion and continue tokens. Anything older
// than the retained history is 410 Gone, reason Expired, which sends clients back to a relist.
//
// Thread-safe: every method may be called from any thread. Watchers must not outlive the store.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "test/kube/resources.h"
#include "test/kube/selector.h"

namespace weave::testing::kube {

struct StoreOptions {
  // Events kept for watches and older reads. Watches further behind than this get 410.
  size_t history_limit = 1000;
  // When set, the objects and the resourceVersion counter are written here after every write
  // (atomically, by rename), and read back by Store::Open if the file exists.
  std::string state_file;
  // The real server answers a LIST at an old resourceVersion (without resourceVersionMatch=Exact)
  // from its current state. With this, such a LIST older than the history is 410 Expired
  // instead, to exercise a client's fallback.
  bool expire_old_list_versions = false;
};

struct ListOptions {
  LabelSelector labels;
  FieldSelector fields;
  std::string resource_version;        // "", "0" or a number
  std::string resource_version_match;  // "", "NotOlderThan" or "Exact"
  int64_t limit = 0;                   // 0: no limit
  std::string continue_token;
};

struct WatchOptions {
  LabelSelector labels;
  FieldSelector fields;
  // "" or "0": the current objects as ADDED events, then changes. A number: the changes after it.
  std::string resource_version;
  // The watch-list protocol (sendInitialEvents=true): the current objects as ADDED events, then a
  // BOOKMARK annotated "k8s.io/initial-events-end", then changes.
  bool send_initial_events = false;
};

// A BOOKMARK watch event for `type` at `revision`, optionally marking the end of initial events.
nlohmann::json BookmarkEvent(const ResourceType& type, int64_t revision, bool initial_events_end);

class Store;

// One open watch. Not thread-safe: one server thread drives it.
class Watcher {
 public:
  struct Batch {
    // Watch events as sent on the wire: {"type":"ADDED","object":{...}}. A watch that fell behind
    // the history ends with an ERROR event carrying a 410 Expired Status.
    std::vector<nlohmann::json> events;
    bool closed = false;  // no more events: the store closed its watches, or an ERROR was sent
  };
  // Returns the pending events, waiting up to `wait` for some to arrive. An empty, open batch
  // means nothing happened.
  Batch Next(absl::Duration wait);
  // Every change up to this revision has been delivered (or did not match): a BOOKMARK's version.
  int64_t resource_version() const { return cursor_; }

 private:
  friend class Store;
  Watcher(Store* store, const ResourceType* type, std::string ns, WatchOptions options)
      : store_(store), type_(type), ns_(std::move(ns)), options_(std::move(options)) {}

  Store* store_;
  const ResourceType* type_;
  std::string ns_;  // "" watches every namespace
  WatchOptions options_;
  int64_t cursor_ = 0;
  uint64_t generation_ = 0;
  std::vector<nlohmann::json> pending_;
  bool done_ = false;
};

class Store {
 public:
  // A store with the namespaces "default" and "kube-system", or the state in
  // options.state_file if it exists. History starts empty: watches from before are 410.
  static absl::StatusOr<std::unique_ptr<Store>> Open(StoreOptions options);

  // The REST verbs. `ns` is the namespace from the URL ("" for cluster-scoped types, and for a
  // LIST across all namespaces). Errors are ApiError statuses (api_error.h).
  absl::StatusOr<nlohmann::json> Get(const ResourceType& type, const std::string& ns,
                                     const std::string& name) const;
  // A <Kind>List with metadata.resourceVersion (and continue/remainingItemCount when limited).
  absl::StatusOr<nlohmann::json> List(const ResourceType& type, const std::string& ns,
                                      const ListOptions& options) const;
  absl::StatusOr<nlohmann::json> Create(const ResourceType& type, const std::string& ns,
                                        nlohmann::json object);
  // `status_only`: the <plural>/status subresource.
  absl::StatusOr<nlohmann::json> Update(const ResourceType& type, const std::string& ns,
                                        const std::string& name, nlohmann::json object,
                                        bool status_only);
  absl::StatusOr<nlohmann::json> Patch(const ResourceType& type, const std::string& ns,
                                       const std::string& name, absl::string_view content_type,
                                       absl::string_view body, bool status_only);
  // `delete_options`: a DeleteOptions body (preconditions.uid/resourceVersion), or null.
  // Returns the deleted object with its deletion revision.
  absl::StatusOr<nlohmann::json> Delete(const ResourceType& type, const std::string& ns,
                                        const std::string& name,
                                        const nlohmann::json& delete_options);
  absl::StatusOr<std::unique_ptr<Watcher>> Watch(const ResourceType& type, const std::string& ns,
                                                 WatchOptions options);

  // Stores `object` (with apiVersion, kind and metadata.name) as given, status included,
  // creating or replacing it: seeding, and a test's way to set what only the cluster's own
  // components could. Returns the stored object.
  absl::StatusOr<nlohmann::json> Put(nlohmann::json object);
  // Put for each object of a JSON array or of a List's items, in order, or for one object.
  absl::Status Seed(const nlohmann::json& objects);

  int64_t resource_version() const;
  // Forgets the history (like a restarted API server's watch cache, or etcd compaction): every
  // older resourceVersion is 410 from now on.
  void CompactHistory();
  // Ends every open watch cleanly; clients re-watch from their last resourceVersion.
  void CloseAllWatches();

 private:
  friend class Watcher;
  struct Event {
    std::string type;  // ADDED, MODIFIED, DELETED
    int64_t resource_version;
    const ResourceType* resource;
    std::string key;
    nlohmann::json object;    // after the change; for DELETED, the last state at this revision
    nlohmann::json previous;  // before the change; null for ADDED
  };
  using ObjectMap = std::map<std::string, nlohmann::json>;

  explicit Store(StoreOptions options) : options_(std::move(options)) {}
  absl::Status LoadState(const nlohmann::json& state);

  // Records a change at the next revision: stores `object` (null deletes), appends the event,
  // trims the history, persists, wakes watchers. Returns the object as stored.
  nlohmann::json Commit(const ResourceType& type, const std::string& key, nlohmann::json object,
                        const std::string& event_type);
  // Validates and completes a new object (name, namespace, uid, timestamps); the key on success.
  absl::StatusOr<std::string> PrepareCreate(const ResourceType& type, const std::string& ns,
                                            nlohmann::json& object);
  absl::StatusOr<nlohmann::json> UpdateLocked(const ResourceType& type, const std::string& ns,
                                              const std::string& name, nlohmann::json object,
                                              bool status_only);
  nlohmann::json DeleteLocked(const ResourceType& type, const std::string& key);
  // The objects of `type` in `ns` as they were at `revision` (>= history_base_).
  ObjectMap SnapshotAt(const ResourceType& type, const std::string& ns, int64_t revision) const;
  void Persist() const;
  std::string NewUid();

  const StoreOptions options_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  ObjectMap objects_;
  std::deque<Event> history_;
  int64_t revision_ = 0;
  int64_t history_base_ = 0;  // every event after this revision is in history_
  uint64_t watch_generation_ = 0;
  std::mt19937_64 random_{std::random_device{}()};
};

// "<group>/<plural>/<namespace>/<name>": sorts by type, then namespace, then name, as etcd keys.
std::string ObjectKey(const ResourceType& type, const std::string& ns, const std::string& name);

}  // namespace weave::testing::kube
