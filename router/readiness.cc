#include "router/readiness.h"

namespace weave::router {

Readiness::Readiness(std::vector<std::string> conditions) {
  for (std::string& condition : conditions) conditions_.emplace(std::move(condition), false);
}

void Readiness::Set(const std::string& condition, bool ready) {
  std::lock_guard lock(mu_);
  conditions_[condition] = ready;
  changed_.notify_all();
}

bool Readiness::WaitFor(const std::string& condition,
                        std::chrono::system_clock::time_point deadline) const {
  std::unique_lock lock(mu_);
  return changed_.wait_until(lock, deadline, [&] {
    auto it = conditions_.find(condition);
    return it != conditions_.end() && it->second;
  });
}

bool Readiness::Ready() const { return NotReady().empty(); }

std::vector<std::string> Readiness::NotReady() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, ready] : conditions_) {
    if (!ready) names.push_back(name);
  }
  return names;
}

}  // namespace weave::router
