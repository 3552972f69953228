#include "ipam/allocation.h"

#include "absl/strings/str_cat.h"

namespace weave::ipam {

absl::Status CheckOwner(absl::string_view container_id, absl::string_view ifname) {
  if (container_id.empty()) return absl::InvalidArgumentError("the container ID is empty");
  if (ifname.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the interface name for container ", container_id, " is empty"));
  }
  return absl::OkStatus();
}

std::string DescribeOwner(const Allocation& allocation) {
  std::string text = absl::StrCat("container ", allocation.container_id, " ", allocation.ifname);
  if (!allocation.pod_name.empty()) {
    absl::StrAppend(&text, " (pod ", allocation.pod_namespace, "/", allocation.pod_name, ")");
  }
  return text;
}

absl::Status AddressHeldError(const Allocation& holder) {
  return absl::AlreadyExistsError(absl::StrCat(holder.address.address().ToString(),
                                               " is already allocated to ", DescribeOwner(holder)));
}

absl::Status OwnerHoldsError(const Allocation& holder) {
  return absl::AlreadyExistsError(absl::StrCat("container ", holder.container_id, " ",
                                               holder.ifname, " already holds ",
                                               holder.address.ToString()));
}

}  // namespace weave::ipam
