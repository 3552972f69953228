#include "ipam/allocation_index.h"

namespace weave::ipam {

void AllocationIndex::Add(const Allocation& allocation) {
  net::Ipv4 ip = allocation.address.address();
  by_address_.emplace(ip, allocation);
  by_owner_.emplace(Owner{allocation.container_id, allocation.ifname}, ip);
}

const Allocation* AllocationIndex::FindOwner(absl::string_view container_id,
                                             absl::string_view ifname) const {
  auto it = by_owner_.find(Owner{std::string(container_id), std::string(ifname)});
  return it == by_owner_.end() ? nullptr : &by_address_.at(it->second);
}

const Allocation* AllocationIndex::FindAddress(net::Ipv4 ip) const {
  auto it = by_address_.find(ip);
  return it == by_address_.end() ? nullptr : &it->second;
}

std::map<AllocationIndex::Owner, net::Ipv4>::const_iterator AllocationIndex::FirstMatch(
    absl::string_view container_id, absl::string_view ifname) const {
  // Owners sort by container first, so one container's interfaces are adjacent.
  auto it = by_owner_.lower_bound(Owner{std::string(container_id), std::string(ifname)});
  bool matches = it != by_owner_.end() && it->first.first == container_id &&
                 (ifname.empty() || it->first.second == ifname);
  return matches ? it : by_owner_.end();
}

bool AllocationIndex::Holds(absl::string_view container_id, absl::string_view ifname) const {
  return FirstMatch(container_id, ifname) != by_owner_.end();
}

std::vector<net::Ipv4> AllocationIndex::Remove(absl::string_view container_id,
                                               absl::string_view ifname) {
  std::vector<net::Ipv4> removed;
  auto it = FirstMatch(container_id, ifname);
  while (it != by_owner_.end() && it->first.first == container_id &&
         (ifname.empty() || it->first.second == ifname)) {
    removed.push_back(it->second);
    by_address_.erase(it->second);
    it = by_owner_.erase(it);
  }
  return removed;
}

bool AllocationIndex::AnyIn(uint64_t start, uint64_t end) const {
  if (start > 0xffffffffULL) return false;
  auto it = by_address_.lower_bound(net::Ipv4(static_cast<uint32_t>(start)));
  return it != by_address_.end() && it->first.value() < end;
}

}  // namespace weave::ipam
