// The free addresses of the ranges a peer owns, kept as disjoint intervals so that finding the
// lowest free address, taking a given one and freeing one each cost O(log n) in the number of
// intervals (which stays small: it grows only with holes left by released addresses).
// The single-owner allocator owns one range; the ring allocator will add the ranges it is given.
//
// A plain value, not thread-safe: its owner serialises access.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "common/net/ip.h"

namespace weave::ipam {

class Space {
 public:
  // Makes [first, last] free. It must not overlap an address added before.
  void AddFree(net::Ipv4 first, net::Ipv4 last);

  // The lowest free address; nullopt when none is free.
  std::optional<net::Ipv4> Lowest() const;

  bool IsFree(net::Ipv4 ip) const;

  // Marks a free address used; false (and no change) when it is not free.
  bool Take(net::Ipv4 ip);

  // Returns a taken address; false (and no change) when it is already free. Only addresses of
  // ranges given to AddFree may be freed.
  bool Free(net::Ipv4 ip);

  uint64_t FreeCount() const { return free_count_; }

  // The free intervals, first -> last (inclusive), in address order.
  const std::map<uint32_t, uint32_t>& intervals() const { return free_; }

 private:
  // The interval holding `ip`, or end().
  std::map<uint32_t, uint32_t>::const_iterator Find(uint32_t ip) const;

  std::map<uint32_t, uint32_t> free_;  // first -> last; disjoint and never adjacent
  uint64_t free_count_ = 0;
};

}  // namespace weave::ipam
