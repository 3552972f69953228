#include "router/overlay/mac_table.h"

#include <mutex>

namespace weave::overlay {
namespace {

// An entry's age is refreshed at most this often, so that the learning thread does not write
// the entry's cache line for every frame.
constexpr int64_t kRefreshNs = 1'000'000'000;

}  // namespace

bool MacTable::Expired(const Entry& entry, int64_t now_ns) const {
  return now_ns - entry.last_seen_ns.load(std::memory_order_relaxed) >=
         absl::ToInt64Nanoseconds(options_.expiry);
}

MacTable::LearnResult MacTable::Learn(uint64_t mac, PeerName peer, absl::Time now) {
  if (IsGroupMac(mac)) return LearnResult::kUnchanged;
  const int64_t now_ns = absl::ToUnixNanos(now);
  {
    std::shared_lock lock(mu_);
    auto it = entries_.find(mac);
    if (it != entries_.end() && it->second.peer == peer) {
      std::atomic<int64_t>& seen = it->second.last_seen_ns;
      if (now_ns - seen.load(std::memory_order_relaxed) >= kRefreshNs) {
        seen.store(now_ns, std::memory_order_relaxed);
      }
      return LearnResult::kUnchanged;
    }
  }
  std::unique_lock lock(mu_);
  auto it = entries_.find(mac);
  if (it != entries_.end()) {
    const bool moved = it->second.peer != peer;
    it->second.peer = peer;
    it->second.last_seen_ns.store(now_ns, std::memory_order_relaxed);
    return moved ? LearnResult::kMoved : LearnResult::kUnchanged;
  }
  if (entries_.size() >= options_.capacity) {
    SweepLocked(now_ns);
    if (entries_.size() >= options_.capacity) return LearnResult::kFull;
  }
  entries_.try_emplace(mac, peer, now_ns);
  return LearnResult::kAdded;
}

std::optional<PeerName> MacTable::Lookup(uint64_t mac, absl::Time now) const {
  std::shared_lock lock(mu_);
  auto it = entries_.find(mac);
  if (it == entries_.end() || Expired(it->second, absl::ToUnixNanos(now))) return std::nullopt;
  return it->second.peer;
}

bool MacTable::Forget(uint64_t mac) {
  {
    std::shared_lock lock(mu_);
    if (!entries_.contains(mac)) return false;
  }
  std::unique_lock lock(mu_);
  return entries_.erase(mac) > 0;
}

size_t MacTable::ForgetPeer(PeerName peer) {
  std::unique_lock lock(mu_);
  return absl::erase_if(entries_, [peer](const auto& entry) { return entry.second.peer == peer; });
}

size_t MacTable::size() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

void MacTable::SweepLocked(int64_t now_ns) {
  absl::erase_if(entries_, [&](const auto& entry) { return Expired(entry.second, now_ns); });
}

}  // namespace weave::overlay
