// Gratuitous ARP: tells the neighbours on a link that an IPv4 address is now at a MAC address, so
// that a pod's new address is reachable at once instead of after their ARP caches expire.
#pragma once

#include <array>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/net/ip.h"
#include "common/netlink/types.h"

namespace weave::netlink {

// The 28-byte ARP packet (Ethernet/IPv4) of a gratuitous ARP request, as `arping -U` sends:
// sender and target protocol address both `ip`, sender hardware address `mac`, target hardware
// address broadcast.
std::array<uint8_t, 28> EncodeGratuitousArp(net::Ipv4 ip, const MacAddress& mac);

// Broadcasts that packet on `ifname` of the calling thread's network namespace (use RunInNetns
// for another) through an AF_PACKET socket. Needs CAP_NET_RAW. NotFound when there is no such
// link; FailedPrecondition when it is down.
absl::Status SendGratuitousArp(absl::string_view ifname, net::Ipv4 ip, const MacAddress& mac);

}  // namespace weave::netlink
