#include "router/pods/endpoints.h"

namespace weave::router {

EndpointRegistry::Subscription::~Subscription() { registry_->Unsubscribe(this); }

std::optional<v1::EndpointEvent> EndpointRegistry::Subscription::Next(absl::Duration timeout) {
  std::unique_lock lock(registry_->mu_);
  if (!registry_->changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                    [this] { return !queue_.empty(); })) {
    return std::nullopt;
  }
  v1::EndpointEvent event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

void EndpointRegistry::Add(const v1::Endpoint& endpoint) {
  std::lock_guard lock(mu_);
  endpoints_[{endpoint.container_id(), endpoint.ifname()}] = endpoint;
  v1::EndpointEvent event;
  event.set_type(v1::EndpointEvent::ADDED);
  *event.mutable_endpoint() = endpoint;
  Publish(event);
}

void EndpointRegistry::Remove(const std::string& container_id, const std::string& ifname) {
  std::lock_guard lock(mu_);
  auto it = endpoints_.find({container_id, ifname});
  if (it == endpoints_.end()) return;
  v1::EndpointEvent event;
  event.set_type(v1::EndpointEvent::REMOVED);
  *event.mutable_endpoint() = std::move(it->second);
  endpoints_.erase(it);
  Publish(event);
}

std::optional<v1::Endpoint> EndpointRegistry::Find(const std::string& container_id,
                                                   const std::string& ifname) const {
  std::lock_guard lock(mu_);
  auto it = endpoints_.find({container_id, ifname});
  if (it == endpoints_.end()) return std::nullopt;
  return it->second;
}

std::vector<v1::Endpoint> EndpointRegistry::List() const {
  std::lock_guard lock(mu_);
  std::vector<v1::Endpoint> list;
  for (const auto& [key, endpoint] : endpoints_) list.push_back(endpoint);
  return list;
}

std::unique_ptr<EndpointRegistry::Subscription> EndpointRegistry::Subscribe() {
  std::unique_ptr<Subscription> subscription(new Subscription(this));
  std::lock_guard lock(mu_);
  Snapshot(&subscription->queue_);
  subscribers_.insert(subscription.get());
  return subscription;
}

void EndpointRegistry::Publish(const v1::EndpointEvent& event) {
  for (Subscription* subscriber : subscribers_) {
    if (subscriber->queue_.size() >= kMaxQueued) {
      // A stalled subscriber costs bounded memory: it gets the current state instead.
      subscriber->queue_.clear();
      Snapshot(&subscriber->queue_);
    } else {
      subscriber->queue_.push_back(event);
    }
  }
  changed_.notify_all();
}

void EndpointRegistry::Snapshot(std::deque<v1::EndpointEvent>* queue) const {
  for (const auto& [key, endpoint] : endpoints_) {
    v1::EndpointEvent added;
    added.set_type(v1::EndpointEvent::ADDED);
    *added.mutable_endpoint() = endpoint;
    queue->push_back(std::move(added));
  }
  v1::EndpointEvent synced;
  synced.set_type(v1::EndpointEvent::SYNCED);
  queue->push_back(std::move(synced));
}

void EndpointRegistry::Unsubscribe(Subscription* subscription) {
  std::lock_guard lock(mu_);
  subscribers_.erase(subscription);
}

}  // namespace weave::router
