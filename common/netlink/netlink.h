// The rtnetlink adapter: links (bridges, veths, VXLAN devices), IPv4 addresses, routes and the
// forwarding database of bridge ports and VXLAN devices, in one network namespace.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<netlink::Netlink> host, netlink::OpenNetlink());
//   ASSIGN_OR_RETURN(netlink::NetnsFd pod, netlink::NetnsFd::Open(netns_path));
//   RETURN_IF_ERROR(host->CreateVethPair("vethwepl1a2b", "eth0", 1376, pod.fd()));
//   RETURN_IF_ERROR(host->SetMaster("vethwepl1a2b", "weave"));
//
// Production code uses OpenNetlink/OpenNetlinkIn (the kernel, through libmnl); tests use
// FakeNetlink (fake_netlink.h), which keeps the same state and fails with the same codes.
//
// Errors: an absl::Status whose message says what was being done and the kernel's errno name,
// with the kernel's own explanation when it gives one:
//   "adding vethwepl1a2b to bridge weave: getting link weave: ENODEV"
//   "adding route default via 10.32.0.1 dev eth0: ENETUNREACH (Nexthop has invalid gateway)"
// Codes follow ErrnoStatus (errors.h); the ones callers branch on are documented per method.
// Names that the kernel could never accept (ValidateLinkName) are InvalidArgument before anything
// is sent.
//
// Threading: thread-compatible. One object is one socket; use it from one thread at a time.
// Every request is answered before the method returns; nothing is cached between calls, so what
// a method reads is the kernel's state at that moment.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/net/ip.h"
#include "common/netlink/netns.h"
#include "common/netlink/types.h"

namespace weave::netlink {

class Netlink {
 public:
  virtual ~Netlink() = default;

  // NotFound when there is no link `name`.
  virtual absl::StatusOr<LinkInfo> GetLink(absl::string_view name) = 0;
  virtual absl::StatusOr<std::vector<LinkInfo>> ListLinks() = 0;

  // A bridge, down, with `mtu`. AlreadyExists when any link is called `name`. Note the kernel's
  // MTU rule for bridges: until the bridge's MTU is set with SetMtu, it follows the smallest MTU
  // of its ports (1500 once it has none), so call SetMtu to pin it.
  virtual absl::Status CreateBridge(absl::string_view name, int mtu) = 0;

  // A veth pair, both ends down with `mtu`: `name` here and `peer_name` in the namespace of
  // `peer_netns_fd` (a NetnsFd's fd), created there directly with its final name, or here when
  // -1. AlreadyExists when either name is taken where that end goes.
  virtual absl::Status CreateVethPair(absl::string_view name, absl::string_view peer_name, int mtu,
                                      int peer_netns_fd) = 0;

  // Deletes the link (and a veth's peer, wherever it is). NotFound when absent.
  virtual absl::Status DeleteLink(absl::string_view name) = 0;
  // Deletes the link with this index (NotFound when absent): unlike a name, an index is never
  // reused for another link while this one exists, so a late deletion cannot hit a newer link
  // that took the same name.
  virtual absl::Status DeleteLinkByIndex(int index) = 0;

  // The administrative state. Taking a link down removes the routes through it.
  virtual absl::Status SetUp(absl::string_view name, bool up) = 0;
  virtual absl::Status SetMtu(absl::string_view name, int mtu) = 0;
  // InvalidArgument for a multicast or all-zero address.
  virtual absl::Status SetMac(absl::string_view name, const MacAddress& mac) = 0;

  // Makes `name` a port of the bridge `master`, or of none when `master` is "" (which is fine
  // when it has none). NotFound when either is absent; FailedPrecondition when `master` is not a
  // bridge; InvalidArgument when `name` is itself a bridge.
  virtual absl::Status SetMaster(absl::string_view name, absl::string_view master) = 0;

  // Hairpin mode of a bridge port (frames may leave by the port they came in on). Reset when the
  // link leaves its bridge. FailedPrecondition when `bridge_port` is not a bridge port.
  virtual absl::Status SetHairpin(absl::string_view bridge_port, bool on) = 0;
  // Isolation of a bridge port (IFLA_BRPORT_ISOLATED): isolated ports exchange no frames with each
  // other, only with ports that are not isolated. Reset when the link leaves its bridge.
  // FailedPrecondition when `bridge_port` is not a bridge port.
  virtual absl::Status SetIsolated(absl::string_view bridge_port, bool on) = 0;
  // Forgets the entries the bridge learned on this port (IFLA_BRPORT_FLUSH); permanent ones stay.
  // The kernel also forgets them when the port, its bridge or its carrier goes down, when the port
  // leaves the bridge, and each after 5 minutes unused. FailedPrecondition when `bridge_port` is
  // not a bridge port.
  virtual absl::Status FlushLearned(absl::string_view bridge_port) = 0;

  // A VXLAN device, down, as VxlanSpec describes it: no local address and no underlay device (the
  // kernel routes each packet), UDP checksums off, TTL 64, IPv4. InvalidArgument (before anything
  // is sent) for a VNI over 24 bits or port 0 (see ValidateVxlanSpec), or an MTU out of 68..65535.
  // AlreadyExists when any link is called `spec.name`, and also when another VXLAN device has the
  // same VNI and port (the kernel allows one per VNI and port in a namespace).
  virtual absl::Status CreateVxlan(const VxlanSpec& spec) = 0;
  // The settings of an existing VXLAN device, for adopting it after a restart. NotFound when there
  // is no link `name`; FailedPrecondition when it is not a VXLAN device.
  virtual absl::StatusOr<VxlanSpec> GetVxlan(absl::string_view name) = 0;

  // Forwarding database. Only VXLAN devices get entries from us: the kernel would take an entry
  // on another link with another meaning, so AddFdb and DeleteFdb are FailedPrecondition there.
  //
  // A permanent entry in a VXLAN device's own table (NTF_SELF): frames to `mac` go to `dst`.
  // Appends (NLM_F_CREATE|NLM_F_APPEND), so that the all-zero MAC (the flood list) and multicast
  // MACs collect one entry per remote. Adding an entry that exists is OK (idempotent). A unicast
  // MAC has a single remote: adding it with another `dst` is OK too but changes nothing (the
  // kernel appends only to all-zero and multicast MACs), so delete the old entry first.
  virtual absl::Status AddFdb(absl::string_view device, const MacAddress& mac, net::Ipv4 dst) = 0;
  // Deletes that entry. NotFound when the device has no entry for `mac`. Note the kernel's rule:
  // when it has one, but not to `dst`, the answer is OK and nothing changes (the fake does the
  // same), so after an OK there is no entry (mac, dst) either way.
  virtual absl::Status DeleteFdb(absl::string_view device, const MacAddress& mac,
                                 net::Ipv4 dst) = 0;
  // Every entry of `device`, in the kernel's order (which callers should not rely on): its own
  // table (self: a VXLAN device's entries, learned ones included; for other links the multicast
  // addresses they listen to) and, for a bridge port, the bridge's entries for that port (its own
  // MAC, permanent, and what the bridge learned). Entries with an IPv6 remote are left out.
  // NotFound when there is no link `device`.
  virtual absl::StatusOr<std::vector<FdbEntry>> ListFdb(absl::string_view device) = 0;

  // An IPv4 address with its prefix length (and broadcast address). AlreadyExists when the link
  // has this address with this prefix length. On a link that is up, the kernel adds the route to
  // the address's subnet ("proto kernel"), which ListRoutes shows.
  virtual absl::Status AddAddress(absl::string_view name, const net::Cidr& address) = 0;
  // The link's IPv4 addresses, in the kernel's order.
  virtual absl::StatusOr<std::vector<net::Cidr>> ListAddresses(absl::string_view name) = 0;
  // NotFound when the link does not have this address with this prefix length. Deleting a
  // link's last address removes the routes through it.
  virtual absl::Status DeleteAddress(absl::string_view name, const net::Cidr& address) = 0;

  // A unicast route in the main table (see Route for scope). AlreadyExists when the table has a
  // route to `route.dst` (whatever its gateway); FailedPrecondition when the device is down or
  // the gateway is not on a connected subnet; InvalidArgument when dst has host bits set or the
  // route has neither gateway nor device.
  virtual absl::Status AddRoute(const Route& route) = 0;
  // The IPv4 unicast routes of the main table, including the kernel's connected ones.
  virtual absl::StatusOr<std::vector<Route>> ListRoutes() = 0;
  // Deletes the route to `route.dst`, matching the gateway and device when given. NotFound when
  // there is none.
  virtual absl::Status DeleteRoute(const Route& route) = 0;
};

// The namespace the calling thread is in.
absl::StatusOr<std::unique_ptr<Netlink>> OpenNetlink();

// Another namespace: the socket is created on a helper thread inside it (RunInNetns), so every
// later request acts there, whichever thread makes it. NotFound or InvalidArgument naming the path
// when it is not a network namespace (see NetnsFd::Open).
absl::StatusOr<std::unique_ptr<Netlink>> OpenNetlinkIn(const std::string& netns_path);
absl::StatusOr<std::unique_ptr<Netlink>> OpenNetlinkIn(const NetnsFd& netns);

}  // namespace weave::netlink
