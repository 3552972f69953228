// An Allocator for a node that owns the whole range, with no peers to share it with.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "ipam/allocation_index.h"
#include "ipam/allocator.h"
#include "ipam/space.h"
#include "ipam/store.h"

namespace weave::ipam {

// Keeps every allocation in memory (by address and by owner) and the free addresses in a
// Space, so that each call costs O(log n) plus one store write; the store is read only once,
// by Create.
//
// Writes go to the store first; memory changes only after the store accepted them, so a failed
// write leaves both as they were and a crash loses nothing that was reported done.
//
// Threading: every method takes one mutex, held across the store write, so concurrent calls
// are serialised and two callers never get the same address.
//
// One allocator per store: a second allocator (in another process, say) on the same store
// would not see this one's allocations in memory. The store's uniqueness of addresses turns
// such a mistake into AlreadyExists errors, never into a duplicate address.
class SingleOwnerAllocator final : public Allocator {
 public:
  // Loads the allocations in `store` (not owned; must outlive the allocator). `range` must be a
  // network ("10.32.0.0/12", no host bits) with at least two usable addresses (/30 or larger),
  // else InvalidArgument. Stored allocations outside `range` (the range was changed) are kept,
  // listed and releasable, with one warning; they never affect what Allocate hands out.
  static absl::StatusOr<std::unique_ptr<SingleOwnerAllocator>> Create(net::Cidr range,
                                                                      Store* store);

  absl::StatusOr<Allocation> Allocate(const AllocationRequest& req) override;
  absl::StatusOr<Allocation> Claim(const Allocation& allocation) override;
  absl::Status Release(absl::string_view container_id, absl::string_view ifname) override;
  absl::StatusOr<std::vector<Allocation>> List() const override;
  uint64_t ActiveCount() const override;
  net::Cidr Range() const override { return range_; }

 private:
  SingleOwnerAllocator(net::Cidr range, Store* store);

  // Persists `allocation`, then records it in memory.
  absl::Status CommitLocked(const Allocation& allocation) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records an allocation the store already holds; false when its address is outside the
  // range's usable addresses (the range changed since it was stored).
  bool IndexLocked(const Allocation& allocation) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether Allocate may hand out `ip` (in the range, not its network or broadcast address).
  bool Usable(net::Ipv4 ip) const;

  const net::Cidr range_;
  Store* const store_;

  mutable absl::Mutex mu_;
  Space free_ ABSL_GUARDED_BY(mu_);
  AllocationIndex held_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weave::ipam
