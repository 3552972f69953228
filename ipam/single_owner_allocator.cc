#include "ipam/single_owner_allocator.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace weave::ipam {

absl::StatusOr<std::unique_ptr<SingleOwnerAllocator>> SingleOwnerAllocator::Create(net::Cidr range,
                                                                                   Store* store) {
  if (!range.IsNetwork()) {
    return absl::InvalidArgumentError(absl::StrCat("the allocation range ", range.ToString(),
                                                   " has host bits set (did you mean ",
                                                   range.Network().ToString(), "?)"));
  }
  if (range.prefix_length() > 30) {
    return absl::InvalidArgumentError(
        absl::StrCat("the allocation range ", range.ToString(), " is too small (at most /30)"));
  }
  ASSIGN_OR_RETURN(std::vector<Allocation> stored, store->LoadAllocations());
  std::unique_ptr<SingleOwnerAllocator> allocator(new SingleOwnerAllocator(range, store));
  absl::MutexLock lock(&allocator->mu_);
  int outside = 0;
  const Allocation* example = nullptr;
  for (const Allocation& allocation : stored) {
    if (!allocator->IndexLocked(allocation)) {
      ++outside;
      example = &allocation;
    }
  }
  if (outside > 0) {
    spdlog::warn(
        "{} stored allocation(s) lie outside the allocation range {} (e.g. {} for {}); keeping "
        "them until released",
        outside, range.ToString(), example->address.ToString(), DescribeOwner(*example));
  }
  return allocator;
}

SingleOwnerAllocator::SingleOwnerAllocator(net::Cidr range, Store* store)
    : range_(range), store_(store) {
  free_.AddFree(net::Ipv4(range.network().value() + 1), net::Ipv4(range.last().value() - 1));
}

absl::StatusOr<Allocation> SingleOwnerAllocator::Allocate(const AllocationRequest& req) {
  RETURN_IF_ERROR(CheckOwner(req.container_id, req.ifname));
  absl::MutexLock lock(&mu_);
  if (const Allocation* held = held_.FindOwner(req.container_id, req.ifname)) return *held;
  std::optional<net::Ipv4> ip = free_.Lowest();
  if (!ip) {
    return absl::ResourceExhaustedError(absl::StrCat("no free address in ", range_.ToString()));
  }
  Allocation allocation{req.container_id, req.ifname, net::Cidr(*ip, range_.prefix_length()),
                        req.pod_namespace, req.pod_name};
  RETURN_IF_ERROR(CommitLocked(allocation));
  return allocation;
}

absl::StatusOr<Allocation> SingleOwnerAllocator::Claim(const Allocation& requested) {
  RETURN_IF_ERROR(CheckOwner(requested.container_id, requested.ifname));
  net::Ipv4 ip = requested.address.address();
  if (!Usable(ip)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot claim ", ip.ToString(), ": it is ",
                                                   range_.Contains(ip)
                                                       ? "the network or broadcast address of "
                                                       : "outside the allocation range ",
                                                   range_.ToString()));
  }
  Allocation allocation = requested;
  allocation.address = net::Cidr(ip, range_.prefix_length());
  absl::MutexLock lock(&mu_);
  if (const Allocation* held = held_.FindOwner(allocation.container_id, allocation.ifname)) {
    if (held->address.address() == ip) return *held;
    return OwnerHoldsError(*held);
  }
  if (const Allocation* holder = held_.FindAddress(ip)) return AddressHeldError(*holder);
  RETURN_IF_ERROR(CommitLocked(allocation));
  return allocation;
}

absl::Status SingleOwnerAllocator::Release(absl::string_view container_id,
                                           absl::string_view ifname) {
  if (container_id.empty()) return absl::InvalidArgumentError("the container ID is empty");
  absl::MutexLock lock(&mu_);
  if (!held_.Holds(container_id, ifname)) return absl::OkStatus();
  RETURN_IF_ERROR(store_->DeleteAllocations(container_id, ifname));
  for (net::Ipv4 ip : held_.Remove(container_id, ifname)) {
    if (Usable(ip) && !free_.Free(ip)) {
      spdlog::critical("IPAM: released address {} was already free", ip.ToString());
      std::abort();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Allocation>> SingleOwnerAllocator::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<Allocation> result;
  result.reserve(held_.size());
  for (const auto& [ip, allocation] : held_.by_address()) result.push_back(allocation);
  return result;
}

uint64_t SingleOwnerAllocator::ActiveCount() const {
  absl::MutexLock lock(&mu_);
  return held_.size();
}

absl::Status SingleOwnerAllocator::CommitLocked(const Allocation& allocation) {
  if (absl::Status st = store_->InsertAllocation(allocation); !st.ok()) {
    return absl::Status(st.code(),
                        absl::StrCat("recording ", allocation.address.address().ToString(), " for ",
                                     DescribeOwner(allocation), ": ", st.message()));
  }
  if (!IndexLocked(allocation)) {
    // Allocate and Claim only commit usable, free addresses.
    spdlog::critical("IPAM: committed unusable address {}", allocation.address.ToString());
    std::abort();
  }
  return absl::OkStatus();
}

bool SingleOwnerAllocator::IndexLocked(const Allocation& allocation) {
  net::Ipv4 ip = allocation.address.address();
  held_.Add(allocation);
  return Usable(ip) && free_.Take(ip);
}

bool SingleOwnerAllocator::Usable(net::Ipv4 ip) const {
  return range_.Contains(ip) && ip != range_.network() && ip != range_.last();
}

}  // namespace weave::ipam
