// WEAVE_MTU=auto: the largest pod MTU the underlay carries without fragmenting fastdp's VXLAN
// packets. The original's fixed 1376 wastes most of a jumbo-frame network (its users asked for
// this for years); auto takes the underlay interface's MTU and subtracts the encapsulation.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/net/ip.h"
#include "common/netlink/netlink.h"

namespace weave::router {

// Outer IPv4 (20) + UDP (8) + VXLAN (8) + the pod frame's Ethernet header (14).
inline constexpr int kVxlanOverhead = 50;

// The device the main table routes `destination` through (longest prefix), if any.
std::optional<std::string> RouteDevice(const std::vector<netlink::Route>& routes,
                                       net::Ipv4 destination);

// The pod MTU for WEAVE_MTU=auto: the smallest MTU of the devices that reach `peers` (or of the
// default route's device when there are none), minus kVxlanOverhead, within 576..65535.
// FailedPrecondition when no route tells which device the underlay is.
absl::StatusOr<int> AutoMtu(netlink::Netlink& host, const std::vector<net::Ipv4>& peers);

}  // namespace weave::router
