// Value types of the rtnetlink adapter: what a link, an address, a route, a VXLAN device and a
// forwarding-database entry look like to the rest of the code, independent of how they travel
// over netlink. Plain values, no kernel headers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/net/ip.h"

namespace weave::netlink {

using MacAddress = std::array<uint8_t, 6>;

// "0a:1b:2c:3d:4e:5f" (lower case).
std::string FormatMac(const MacAddress& mac);
// Six colon-separated hex pairs; anything else is InvalidArgument.
absl::StatusOr<MacAddress> ParseMac(absl::string_view text);

// A network interface as RTM_NEWLINK describes it.
struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;  // IFLA_INFO_KIND: "bridge", "veth", "vxlan", "tun"; "" for lo and the like.
  MacAddress mac{};
  int mtu = 0;
  bool up = false;       // IFF_UP, the administrative state (not carrier).
  int master_index = 0;  // The bridge this link is a port of; 0 = none.

  friend bool operator==(const LinkInfo&, const LinkInfo&) = default;
};

// A unicast IPv4 route in the main table. A route with a gateway has universe scope; one without
// is directly connected and has link scope (as `ip route add` does). `dev` may be empty when
// adding a route with a gateway (the kernel picks the device); listed routes always name it.
struct Route {
  net::Cidr dst;  // A network: host bits must be zero. 0.0.0.0/0 is the default route.
  std::optional<net::Ipv4> gateway;
  std::string dev;

  // As `ip route` prints it: "default via 10.32.0.1 dev eth0", "10.32.0.0/12 dev weave".
  std::string ToString() const;

  friend bool operator==(const Route&, const Route&) = default;
};

// A VXLAN device as the overlay makes it: IPv4, no local address and no underlay device (the
// kernel routes each encapsulated packet), no default remote (remotes are FDB entries).
struct VxlanSpec {
  std::string name;
  uint32_t vni = 0;   // 24 bits.
  uint16_t port = 0;  // The UDP destination port, in host order here.
  int mtu = 0;
  bool learning = true;  // Whether the device learns remotes from the packets it receives.

  friend bool operator==(const VxlanSpec&, const VxlanSpec&) = default;
};

// One entry of the forwarding database (AF_BRIDGE neighbours) of a bridge port or a VXLAN device.
struct FdbEntry {
  MacAddress mac{};  // All zeros: the flood list of a VXLAN device (one entry per remote).
  std::optional<net::Ipv4> dst;  // A VXLAN entry's remote; none for a bridge's entries.
  bool permanent = false;  // NUD_PERMANENT: added (by us, or the port's own MAC), not learned.
  bool self = false;       // NTF_SELF: the device's own table (VXLAN); false: its bridge's.

  // As `bridge fdb show` prints it: "00:00:00:00:00:00 dst 10.0.0.2 self permanent".
  std::string ToString() const;

  friend bool operator==(const FdbEntry&, const FdbEntry&) = default;
};

std::ostream& operator<<(std::ostream& out, const LinkInfo& link);  // For test failure messages.
std::ostream& operator<<(std::ostream& out, const Route& route);
std::ostream& operator<<(std::ostream& out, const VxlanSpec& spec);
std::ostream& operator<<(std::ostream& out, const FdbEntry& entry);

// The kernel's rule for interface names (dev_valid_name): 1 to 15 bytes, not "." or "..", no
// '/', ':' or whitespace. InvalidArgument naming the name otherwise. Checked before a name is put
// into a request, so that a bad name is an error of ours and not a mangled message.
absl::Status ValidateLinkName(absl::string_view name);

// What a route needs before it is sent: a network as dst (no host bits), a gateway or a device,
// and a valid device name if any. InvalidArgument naming the route otherwise.
absl::Status ValidateRoute(const Route& route);

// A MAC address an interface can take (is_valid_ether_addr): not multicast, not all zeros.
absl::Status ValidateUnicastMac(const MacAddress& mac);

// What a VXLAN device needs before it is created: a valid name, a VNI of at most 24 bits and a
// port other than 0 (which the kernel would silently replace by 8472). InvalidArgument otherwise.
absl::Status ValidateVxlanSpec(const VxlanSpec& spec);

// FailedPrecondition naming the link and its kind unless it is a VXLAN device: for requests that
// the kernel would accept on other links with another meaning (an FDB entry on a veth becomes one
// of its unicast addresses).
absl::Status ValidateIsVxlan(const LinkInfo& link);

}  // namespace weave::netlink
