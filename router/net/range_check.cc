#include "router/net/range_check.h"

#include "absl/strings/str_cat.h"

namespace weave::router {

std::optional<netlink::Route> FindOverlappingRoute(const net::Cidr& range,
                                                   const std::vector<netlink::Route>& routes,
                                                   const std::string& bridge) {
  for (const netlink::Route& route : routes) {
    if (route.dst.prefix_length() == 0 || route.dev == bridge) continue;
    if (route.dst.Overlaps(range)) return route;
  }
  return std::nullopt;
}

absl::Status CheckRangeIsFree(const net::Cidr& range, const std::vector<netlink::Route>& routes,
                              const std::string& bridge) {
  std::optional<netlink::Route> overlap = FindOverlappingRoute(range, routes, bridge);
  if (!overlap) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("IPALLOC_RANGE ", range.ToString(), " overlaps the host route ",
                   overlap->ToString(), "; choose a free range with IPALLOC_RANGE"));
}

}  // namespace weave::router
