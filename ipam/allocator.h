// The address allocator as its callers (the CNI service, the bridge setup, status) see it.
// Today one node owns the whole range (SingleOwnerAllocator); the ring allocator that splits
// the range between peers will implement the same interface.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/net/ip.h"
#include "ipam/allocation.h"

namespace weave::ipam {

// Every implementation is thread-safe, and every change it reports as done is already
// persisted: a crash right after a call returns loses nothing.
class Allocator {
 public:
  virtual ~Allocator() = default;

  // An address for the owner (req.container_id, req.ifname), both required (else
  // InvalidArgument). Idempotent: while the owner holds an address, asking again returns that
  // same allocation unchanged. Otherwise the lowest free address of the range, never its
  // network or broadcast address nor one held through Claim. ResourceExhausted
  // ("no free address in 10.32.0.0/12") when none is free.
  virtual absl::StatusOr<Allocation> Allocate(const AllocationRequest& req) = 0;

  // Gives `allocation.address` (its prefix length is replaced by the range's) to the owner in
  // `allocation`: the bridge's exposed address, or a pod's address re-adopted after a restart.
  // Idempotent when that owner already holds that address. AlreadyExists naming the holder when
  // another owner holds it, or when this owner holds a different address. InvalidArgument when
  // the address is outside the range or is its network or broadcast address.
  virtual absl::StatusOr<Allocation> Claim(const Allocation& allocation) = 0;

  // Frees the address of (container_id, ifname); an empty `ifname` frees every address of the
  // container. OK when there is nothing to free. InvalidArgument for an empty container_id.
  virtual absl::Status Release(absl::string_view container_id, absl::string_view ifname) = 0;

  // Every allocation this node holds, ordered by address.
  virtual absl::StatusOr<std::vector<Allocation>> List() const = 0;

  // How many addresses this node holds.
  virtual uint64_t ActiveCount() const = 0;

  // The whole range addresses come from ("10.32.0.0/12").
  virtual net::Cidr Range() const = 0;
};

}  // namespace weave::ipam
