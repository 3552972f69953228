// The allocations one allocator holds, found by address and by owner (container_id, ifname).
// A plain value, not thread-safe: the allocator that owns it serialises access.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/net/ip.h"
#include "ipam/allocation.h"

namespace weave::ipam {

class AllocationIndex {
 public:
  // Precondition: neither its address nor its owner is held yet.
  void Add(const Allocation& allocation);

  const Allocation* FindOwner(absl::string_view container_id, absl::string_view ifname) const;
  const Allocation* FindAddress(net::Ipv4 ip) const;

  // Whether (container_id, ifname) holds an address; an empty ifname means any interface.
  bool Holds(absl::string_view container_id, absl::string_view ifname) const;
  // Forgets what Holds matches and returns those addresses.
  std::vector<net::Ipv4> Remove(absl::string_view container_id, absl::string_view ifname);

  // Whether any held address lies in [start, end).
  bool AnyIn(uint64_t start, uint64_t end) const;

  // Every allocation, ordered by address.
  const std::map<net::Ipv4, Allocation>& by_address() const { return by_address_; }
  size_t size() const { return by_address_.size(); }
  bool empty() const { return by_address_.empty(); }

 private:
  using Owner = std::pair<std::string, std::string>;  // (container_id, ifname)
  // The first owner entry Holds/Remove match, or end().
  std::map<Owner, net::Ipv4>::const_iterator FirstMatch(absl::string_view container_id,
                                                        absl::string_view ifname) const;

  std::map<net::Ipv4, Allocation> by_address_;
  std::map<Owner, net::Ipv4> by_owner_;
};

}  // namespace weave::ipam
