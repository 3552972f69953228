// What the address manager hands out: one address per owner, where the owner is a container
// (the pod's sandbox) and an interface inside it.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/net/ip.h"

namespace weave::ipam {

// An address held by (container_id, ifname). Addresses the node itself uses (the bridge's
// exposed address) are held the same way, under an owner name the caller chooses.
struct Allocation {
  std::string container_id;
  std::string ifname;
  net::Cidr address;  // the host address with the range's prefix length: "10.32.0.1/12"
  // Informational (status output, logs); may be empty.
  std::string pod_namespace;
  std::string pod_name;

  friend bool operator==(const Allocation&, const Allocation&) = default;
};

// Allocate's input: the owner that needs an address.
struct AllocationRequest {
  std::string container_id;
  std::string ifname;
  std::string pod_namespace;
  std::string pod_name;
  // How long a distributed allocator may wait for the ring or for space from a peer.
  absl::Time deadline = absl::InfiniteFuture();
};

// OK when both parts of an owner are set; InvalidArgument otherwise. An empty ifname is how
// Release says "every interface", so no allocation may have one.
absl::Status CheckOwner(absl::string_view container_id, absl::string_view ifname);

// "container 1a2b3c eth0 (pod default/web-0)", for error messages and logs.
std::string DescribeOwner(const Allocation& allocation);

// The conflicts every store and allocator reports the same way, as AlreadyExists:
// "10.32.0.5 is already allocated to container 1a2b3c eth0 (pod default/web-0)"
absl::Status AddressHeldError(const Allocation& holder);
// "container 1a2b3c eth0 already holds 10.32.0.5/12"
absl::Status OwnerHoldsError(const Allocation& holder);

}  // namespace weave::ipam
