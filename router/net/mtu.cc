#include "router/net/mtu.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace weave::router {

std::optional<std::string> RouteDevice(const std::vector<netlink::Route>& routes,
                                       net::Ipv4 destination) {
  const netlink::Route* best = nullptr;
  for (const netlink::Route& route : routes) {
    if ((destination.value() & route.dst.mask()) != route.dst.address().value()) continue;
    if (best == nullptr || route.dst.prefix_length() > best->dst.prefix_length()) best = &route;
  }
  if (best == nullptr || best->dev.empty()) return std::nullopt;
  return best->dev;
}

absl::StatusOr<int> AutoMtu(netlink::Netlink& host, const std::vector<net::Ipv4>& peers) {
  ASSIGN_OR_RETURN(std::vector<netlink::Route> routes, host.ListRoutes());
  std::vector<std::string> devices;
  for (net::Ipv4 peer : peers) {
    if (std::optional<std::string> dev = RouteDevice(routes, peer)) devices.push_back(*dev);
  }
  if (devices.empty()) {
    if (std::optional<std::string> dev = RouteDevice(routes, net::Ipv4(0x08080808))) {
      devices.push_back(*dev);  // the default route's device: where peers usually are
    }
  }
  if (devices.empty()) {
    return absl::FailedPreconditionError(
        "WEAVE_MTU=auto: no route shows which interface reaches the peers; set WEAVE_MTU");
  }
  int underlay = 65535;
  for (const std::string& dev : devices) {
    ASSIGN_OR_RETURN(netlink::LinkInfo link, host.GetLink(dev));
    underlay = std::min(underlay, link.mtu);
  }
  return std::clamp(underlay - kVxlanOverhead, 576, 65535);
}

}  // namespace weave::router
