#include "ipam/space.h"

#include <iterator>

namespace weave::ipam {

void Space::AddFree(net::Ipv4 first, net::Ipv4 last) {
  if (first > last) return;
  free_count_ += uint64_t{last.value()} - first.value() + 1;
  auto [it, inserted] = free_.emplace(first.value(), last.value());
  // Merge with the neighbours when adjacent, keeping the intervals maximal.
  if (it != free_.begin()) {
    auto prev = std::prev(it);
    if (prev->second + uint64_t{1} == it->first) {
      prev->second = it->second;
      free_.erase(it);
      it = prev;
    }
  }
  auto next = std::next(it);
  if (next != free_.end() && it->second + uint64_t{1} == next->first) {
    it->second = next->second;
    free_.erase(next);
  }
}

std::optional<net::Ipv4> Space::Lowest() const {
  if (free_.empty()) return std::nullopt;
  return net::Ipv4(free_.begin()->first);
}

std::map<uint32_t, uint32_t>::const_iterator Space::Find(uint32_t ip) const {
  auto it = free_.upper_bound(ip);
  if (it == free_.begin()) return free_.end();
  --it;
  return ip <= it->second ? it : free_.end();
}

bool Space::IsFree(net::Ipv4 ip) const { return Find(ip.value()) != free_.end(); }

bool Space::Take(net::Ipv4 ip) {
  auto found = Find(ip.value());
  if (found == free_.end()) return false;
  uint32_t v = ip.value();
  uint32_t first = found->first;
  uint32_t last = found->second;
  free_.erase(found);
  if (first < v) free_.emplace(first, v - 1);
  if (v < last) free_.emplace(v + 1, last);
  --free_count_;
  return true;
}

bool Space::Free(net::Ipv4 ip) {
  if (IsFree(ip)) return false;
  AddFree(ip, ip);
  return true;
}

}  // namespace weave::ipam
