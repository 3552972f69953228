// IPALLOC_RANGE must not overlap the host's own routes: the original crash-looped with
// "Network 10.32.0.0/12 overlaps with existing route"; we refuse to start with one line
// that says what to change.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/net/ip.h"
#include "common/netlink/netlink.h"

namespace weave::router {

// The first route that overlaps `range`, ignoring default routes and routes on `bridge`
// (our own, from an earlier run).
std::optional<netlink::Route> FindOverlappingRoute(const net::Cidr& range,
                                                   const std::vector<netlink::Route>& routes,
                                                   const std::string& bridge);

// FailedPrecondition "IPALLOC_RANGE 10.32.0.0/12 overlaps the host route 10.0.0.0/8 dev eth0;
// choose a free range with IPALLOC_RANGE" when one overlaps.
absl::Status CheckRangeIsFree(const net::Cidr& range, const std::vector<netlink::Route>& routes,
                              const std::string& bridge);

}  // namespace weave::router
