// The local endpoints (pod interfaces attached on this node) and the stream of their changes.
//
// weave-npc subscribes so that a pod's rules exist before the Kubernetes API reports its
// address; `weave ps` lists them. A subscriber first receives one ADDED event per existing
// endpoint and then SYNCED, then every change in order. A subscriber that falls too far
// behind receives a fresh snapshot ending in SYNCED: after each SYNCED, the endpoints ADDED
// since the previous SYNCED are the whole state. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "weave/router.pb.h"

namespace weave::router {

class EndpointRegistry {
 public:
  // One subscriber's queue. Obtain with Subscribe(); unsubscribes when destroyed.
  class Subscription {
   public:
    ~Subscription();
    // Waits up to `timeout` for the next event; nullopt on timeout. A subscriber that falls
    // more than kMaxQueued events behind is resynchronised: its queue is replaced by a fresh
    // snapshot (ADDED for each endpoint, then SYNCED), so it never misses a state.
    std::optional<v1::EndpointEvent> Next(absl::Duration timeout);

   private:
    friend class EndpointRegistry;
    explicit Subscription(EndpointRegistry* registry) : registry_(registry) {}
    EndpointRegistry* registry_;
    std::deque<v1::EndpointEvent> queue_;  // guarded by registry_->mu_
  };

  static constexpr size_t kMaxQueued = 10000;

  EndpointRegistry() = default;
  EndpointRegistry(const EndpointRegistry&) = delete;
  EndpointRegistry& operator=(const EndpointRegistry&) = delete;

  // Adds or replaces the endpoint for (container_id, ifname) and notifies subscribers.
  void Add(const v1::Endpoint& endpoint);
  // Removes it (no-op if absent) and notifies subscribers.
  void Remove(const std::string& container_id, const std::string& ifname);

  std::optional<v1::Endpoint> Find(const std::string& container_id,
                                   const std::string& ifname) const;
  std::vector<v1::Endpoint> List() const;  // ordered by (container_id, ifname)

  std::unique_ptr<Subscription> Subscribe();

 private:
  using Key = std::pair<std::string, std::string>;
  void Publish(const v1::EndpointEvent& event);  // requires mu_
  void Snapshot(std::deque<v1::EndpointEvent>* queue) const;  // requires mu_
  void Unsubscribe(Subscription* subscription);

  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::map<Key, v1::Endpoint> endpoints_;
  std::set<Subscription*> subscribers_;
};

}  // namespace weave::router
