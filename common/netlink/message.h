// Layer 2 of the adapter: rtnetlink messages encoded and decoded as bytes, with no socket, so that
// they can be tested without root. Internal to common/netlink (it speaks <linux/netlink.h>).
//
// Encoders are pure: they leave nlmsg_seq and nlmsg_pid zero (NetlinkSocket stamps them), and
// expect names that passed ValidateLinkName. Request flags tell NetlinkSocket how the answer ends:
// NLM_F_DUMP (a dump up to NLMSG_DONE), NLM_F_ACK (an ack), neither (one reply, for GET requests).
//
// Decoders accept any message the kernel (or anyone else) can produce: a message that is too
// short, an attribute that overruns its message or has the wrong size is an Internal error naming
// the message, never a crash. Attributes they do not know are skipped. A decoder reads the
// nlmsg_len bytes the header claims, so callers check that they have them (mnl_nlmsg_ok).
#pragma once

#include <linux/netlink.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/net/ip.h"
#include "common/netlink/types.h"

namespace weave::netlink {

// One netlink message being built in place. Requests are small and bounded, so a fixed buffer
// suffices; outgrowing it is a bug of ours and aborts.
class Request {
 public:
  static constexpr size_t kCapacity = 512;

  // A message of `type` with `flags` | NLM_F_REQUEST and a zeroed family header of `T`.
  template <typename T>
  static Request WithHeader(uint16_t type, uint16_t flags, T** family_header) {
    Request request(type, flags);
    *family_header = static_cast<T*>(request.PutZeros(sizeof(T)));
    return request;
  }

  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buffer_.data()); }
  const nlmsghdr* header() const { return reinterpret_cast<const nlmsghdr*>(buffer_.data()); }
  absl::Span<const uint8_t> bytes() const { return {buffer_.data(), header()->nlmsg_len}; }

  void PutU8(uint16_t type, uint8_t value);
  void PutU32(uint16_t type, uint32_t value);
  void PutBe16(uint16_t type, uint16_t value);     // Network byte order (a UDP port).
  void PutIpv4(uint16_t type, net::Ipv4 address);  // Network byte order, as rtnetlink wants.
  void PutString(uint16_t type, absl::string_view value);  // NUL-terminated.
  void PutBytes(uint16_t type, absl::Span<const uint8_t> value);
  void PutFlag(uint16_t type);  // No payload: present means set.
  // Appends `size` zero bytes (aligned) where the message ends and returns them: for a header
  // inside a nested attribute (VETH_INFO_PEER starts with a struct ifinfomsg).
  void* PutZeros(size_t size);
  // A nested attribute (NLA_F_NESTED set): the attributes put until EndNest go inside.
  nlattr* BeginNest(uint16_t type);
  void EndNest(nlattr* nest);

 private:
  Request(uint16_t type, uint16_t flags);
  void Put(uint16_t type, size_t size, const void* data);

  alignas(nlmsghdr) std::array<uint8_t, kCapacity> buffer_{};
};

// ---- Links ----

// RTM_GETLINK for one link, by name or index, without statistics. The reply is an RTM_NEWLINK
// (DecodeLink) or ENODEV.
Request EncodeGetLink(absl::string_view name);
Request EncodeGetLink(int index);
// RTM_GETLINK dump of every link, without statistics.
Request EncodeListLinks();
// RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL: EEXIST if the name is taken.
Request EncodeCreateBridge(absl::string_view name, int mtu);
// A veth pair; the peer goes into the namespace of `peer_netns_fd` (IFLA_NET_NS_FD inside
// VETH_INFO_PEER) unless it is -1.
Request EncodeCreateVeth(absl::string_view name, absl::string_view peer_name, int mtu,
                         int peer_netns_fd);
Request EncodeDeleteLink(absl::string_view name);
// By interface index: deletes exactly that link even if its name has been reused since.
Request EncodeDeleteLinkByIndex(int index);

// What an RTM_SETLINK changes; what is unset stays as it is.
struct LinkChange {
  std::optional<bool> up;
  std::optional<int> mtu;
  std::optional<MacAddress> mac;
  std::optional<int> master_index;  // 0 = leave the bridge.
};
Request EncodeSetLink(absl::string_view name, const LinkChange& change);
// AF_BRIDGE RTM_SETLINK of a nested IFLA_PROTINFO on a bridge port (EOPNOTSUPP for a link that
// is not one): { IFLA_BRPORT_MODE }, { IFLA_BRPORT_ISOLATED }, { IFLA_BRPORT_FLUSH } (forgets
// the entries the bridge learned on the port).
Request EncodeSetHairpin(int port_index, bool on);
Request EncodeSetIsolated(int port_index, bool on);
Request EncodeFlushLearned(int port_index);

// A VXLAN device (RTM_NEWLINK with NLM_F_CREATE|NLM_F_EXCL) for a spec that passed
// ValidateVxlanSpec: IFLA_VXLAN_ID, _PORT, _LEARNING, UDP checksums off, TTL 64, and no local
// address, remote or underlay device. EEXIST if the name is taken, and also if another VXLAN
// device has this VNI and port.
Request EncodeCreateVxlan(const VxlanSpec& spec);

absl::StatusOr<LinkInfo> DecodeLink(const nlmsghdr& message);
// The settings of a VXLAN device from its RTM_NEWLINK (IFLA_INFO_DATA); nullopt for a link of
// another kind.
absl::StatusOr<std::optional<VxlanSpec>> DecodeVxlan(const nlmsghdr& message);

// ---- Addresses (IPv4) ----

struct AddressEntry {
  int index = 0;  // The link's.
  net::Cidr address;
  friend bool operator==(const AddressEntry&, const AddressEntry&) = default;
};

// RTM_NEWADDR with NLM_F_CREATE|NLM_F_EXCL (EEXIST if present) and, below /31, the broadcast
// address, as `ip addr add ... brd +` and the CNI plugins do.
Request EncodeAddAddress(int index, const net::Cidr& address);
// RTM_DELADDR of exactly this address and prefix length: EADDRNOTAVAIL if absent.
Request EncodeDeleteAddress(int index, const net::Cidr& address);
// RTM_GETADDR dump of IPv4 addresses; the kernel filters by `index` on a strict socket.
Request EncodeListAddresses(int index);

// nullopt for an address that is not IPv4.
absl::StatusOr<std::optional<AddressEntry>> DecodeAddress(const nlmsghdr& message);

// ---- Routes (IPv4, main table) ----

// A route as rtnetlink names it: the device by index (0 = none given).
struct RouteEntry {
  net::Cidr dst;
  std::optional<net::Ipv4> gateway;
  int oif = 0;
  friend bool operator==(const RouteEntry&, const RouteEntry&) = default;
};

// RTM_NEWROUTE with NLM_F_CREATE|NLM_F_EXCL in the main table, protocol boot, type unicast;
// universe scope with a gateway, link scope without (as `ip route add`).
Request EncodeAddRoute(const RouteEntry& route);
// RTM_DELROUTE matching dst, and the gateway and device when given, in any scope.
Request EncodeDeleteRoute(const RouteEntry& route);
// RTM_GETROUTE dump of IPv4 routes; the kernel filters the main table on a strict socket.
Request EncodeListRoutes();

// nullopt for a route that is not an IPv4 unicast route of the main table with at most one
// next hop (multipath, blackhole, cloned and other tables' routes are not described by Route).
absl::StatusOr<std::optional<RouteEntry>> DecodeRoute(const nlmsghdr& message);

// ---- Forwarding database (AF_BRIDGE neighbours) ----

// An entry as rtnetlink names its device: by index.
struct FdbRecord {
  int index = 0;
  FdbEntry entry;
  friend bool operator==(const FdbRecord&, const FdbRecord&) = default;
};

// RTM_NEWNEIGH of a permanent entry (NUD_PERMANENT|NUD_NOARP) in the device's own table
// (NTF_SELF), with NLM_F_CREATE|NLM_F_APPEND, as `bridge fdb append MAC dev X dst DST self
// permanent`. A VXLAN device appends `dst` to an all-zero or multicast MAC's remotes; a unicast MAC
// that exists keeps its remote, and the kernel still acks.
Request EncodeAddFdb(int index, const MacAddress& mac, net::Ipv4 dst);
// RTM_DELNEIGH of that entry: ENOENT when the device has no entry for the MAC (but an ack when it
// has one without this remote).
Request EncodeDeleteFdb(int index, const MacAddress& mac, net::Ipv4 dst);
// RTM_GETNEIGH dump of AF_BRIDGE entries; on a strict socket the kernel keeps the device's own
// and, for a bridge port, its bridge's entries for it (otherwise every device's come).
Request EncodeListFdb(int index);

// nullopt for an entry FdbEntry does not describe: not AF_BRIDGE, a link-layer address that is not
// 6 bytes, an IPv6 remote.
absl::StatusOr<std::optional<FdbRecord>> DecodeFdb(const nlmsghdr& message);

// ---- Answers ----

// An NLMSG_ERROR message: an ack (error 0) or a failure.
struct KernelError {
  int error = 0;        // A positive errno; 0 for an ack.
  std::string message;  // The extended ack's NLMSGERR_ATTR_MSG, if any.
};
absl::StatusOr<KernelError> DecodeError(const nlmsghdr& message);

// The end of a dump: error 0, or the error of a dump that failed part way.
absl::StatusOr<KernelError> DecodeDone(const nlmsghdr& message);

}  // namespace weave::netlink
