// The node's persistent IPAM state: the allocations it has made and a few named values (later
// the peer name and the ring). The allocator keeps its working copy in memory and writes
// through to the store before it answers, so that a restart, in any order and at any moment,
// neither loses nor duplicates an address.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ipam/allocation.h"

namespace weave::ipam {

// Contract for every implementation:
//  - Each write is atomic and, once it returns OK, durable: after a crash or a power loss the
//    store holds it. A write that returns an error has changed nothing.
//  - Thread-safe: any thread may call any method.
//  - Addresses are unique whatever their prefix length, and so are owners.
class Store {
 public:
  virtual ~Store() = default;

  // Every allocation, ordered by address.
  virtual absl::StatusOr<std::vector<Allocation>> LoadAllocations() = 0;

  // Adds `allocation`. AlreadyExists, naming the holder, when its owner (container_id, ifname)
  // or its address is already stored.
  virtual absl::Status InsertAllocation(const Allocation& allocation) = 0;

  // Removes the allocation of (container_id, ifname), or with an empty `ifname` every
  // allocation of the container, in one write. Removing nothing is OK.
  virtual absl::Status DeleteAllocations(absl::string_view container_id,
                                         absl::string_view ifname) = 0;

  // The bytes stored under `key`; nullopt when there are none.
  virtual absl::StatusOr<std::optional<std::string>> GetMetadata(absl::string_view key) = 0;

  // Stores `value` (any bytes) under `key`, replacing what was there.
  virtual absl::Status SetMetadata(absl::string_view key, absl::string_view value) = 0;
};

}  // namespace weave::ipam
