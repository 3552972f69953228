// FakeNetlink: an in-memory network namespace behind the Netlink interface, for unit tests of
// code that configures links, addresses, routes and forwarding databases (the router, the CNI
// plugin, the overlay).
//
// Faithful to the kernel where callers can notice (the kernel tests run the same conformance
// scenarios against both, see netlink_conformance.h):
//   - a new namespace holds lo (index 1, down, MTU 65536); indexes grow and are not reused;
//   - duplicates and missing objects fail with the kernel's errno, worded as the adapter words it
//     (ErrnoStatus), so codes and messages match;
//   - deleting a veth end deletes its peer, in whichever fake namespace it is;
//   - a bridge port's hairpin and isolation reset when it leaves the bridge; a bridge's MTU
//     follows its smallest port (1500 with none) until SetMtu pins it;
//   - a link that is up with an address has the connected route to its subnet (not for /32, one
//     per subnet); taking a link down or deleting its last address removes its routes;
//   - a route needs its device up and its gateway on a connected (link-scope) subnet;
//   - VXLAN devices keep their spec; two with the same VNI and port cannot coexist;
//   - forwarding databases: a VXLAN device's own table holds what AddFdb put there, with the
//     kernel's append rules (all-zero and multicast MACs collect remotes, a unicast MAC keeps its
//     first); a bridge lists its own MAC, and each port its own MAC (permanent) and what the bridge
//     learned on it (see SendFrame), forgotten by FlushLearned, when the port leaves the bridge,
//     and when the port, its bridge or its veth peer goes down.
// Not modelled: carrier, a bridge's MAC following its ports (so a bridge's own FDB entry stays
// even when the kernel would hand it to the port whose MAC it took), learning by VXLAN devices and
// ageing, the multicast addresses the kernel lists in a device's own FDB table (33:33:…,
// 01:00:5e:…, from its IPv4 and IPv6 memberships), route source addresses, neighbours, other route
// tables and types, IPv6, statistics.
//
// Threading: thread-compatible, like the real one.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/net/ip.h"
#include "common/netlink/netlink.h"

namespace weave::netlink {

class FakeNetlink final : public Netlink {
 public:
  FakeNetlink();
  FakeNetlink(const FakeNetlink&) = delete;
  FakeNetlink& operator=(const FakeNetlink&) = delete;
  // Like a namespace going away: veth ends here take their peers elsewhere with them.
  ~FakeNetlink() override;

  // Makes `netns_fd` stand for `other` in CreateVethPair, as a NetnsFd's fd stands for its
  // namespace. An fd never given here fails as a bad fd does (EBADF). Both fakes must outlive the
  // veth pairs between them, or be destroyed (which deletes those pairs).
  void AddNamespace(int netns_fd, FakeNetlink* other);

  // The next call of any method fails with `status` and changes nothing: for testing what callers
  // do when the kernel fails half way (rollback).
  void FailNextCall(absl::Status status);

  // A bridge port's hairpin mode and isolation, which the kernel reports outside RTM_NEWLINK.
  // NotFound when there is no such link; false for a link that is not a port.
  absl::StatusOr<bool> Hairpin(absl::string_view port) const;
  absl::StatusOr<bool> Isolated(absl::string_view port) const;

  // Stands for a frame that `sender` sends (the fake has no traffic): when its veth peer is a port
  // of a bridge, and the sender, the port and the bridge are up, the bridge learns sender's MAC on
  // that port (and forgets it on its other ports). NotFound when there is no link `sender`;
  // FailedPrecondition when it is down (as sending on it would be).
  absl::Status SendFrame(absl::string_view sender);

  absl::StatusOr<LinkInfo> GetLink(absl::string_view name) override;
  absl::StatusOr<std::vector<LinkInfo>> ListLinks() override;
  absl::Status CreateBridge(absl::string_view name, int mtu) override;
  absl::Status CreateVethPair(absl::string_view name, absl::string_view peer_name, int mtu,
                              int peer_netns_fd) override;
  absl::Status DeleteLink(absl::string_view name) override;
  absl::Status DeleteLinkByIndex(int index) override;
  absl::Status SetUp(absl::string_view name, bool up) override;
  absl::Status SetMtu(absl::string_view name, int mtu) override;
  absl::Status SetMac(absl::string_view name, const MacAddress& mac) override;
  absl::Status SetMaster(absl::string_view name, absl::string_view master) override;
  absl::Status SetHairpin(absl::string_view bridge_port, bool on) override;
  absl::Status SetIsolated(absl::string_view bridge_port, bool on) override;
  absl::Status FlushLearned(absl::string_view bridge_port) override;
  absl::Status CreateVxlan(const VxlanSpec& spec) override;
  absl::StatusOr<VxlanSpec> GetVxlan(absl::string_view name) override;
  absl::Status AddFdb(absl::string_view device, const MacAddress& mac, net::Ipv4 dst) override;
  absl::Status DeleteFdb(absl::string_view device, const MacAddress& mac, net::Ipv4 dst) override;
  absl::StatusOr<std::vector<FdbEntry>> ListFdb(absl::string_view device) override;
  absl::Status AddAddress(absl::string_view name, const net::Cidr& address) override;
  absl::StatusOr<std::vector<net::Cidr>> ListAddresses(absl::string_view name) override;
  absl::Status DeleteAddress(absl::string_view name, const net::Cidr& address) override;
  absl::Status AddRoute(const Route& route) override;
  absl::StatusOr<std::vector<Route>> ListRoutes() override;
  absl::Status DeleteRoute(const Route& route) override;

 private:
  struct Link {
    LinkInfo info;
    std::vector<net::Cidr> addresses;
    bool hairpin = false;
    bool isolated = false;
    bool mtu_set_by_user = false;           // Bridges: SetMtu stops the MTU following the ports.
    std::optional<VxlanSpec> vxlan;         // VXLAN devices: vni, port, learning.
    std::vector<FdbEntry> fdb;              // The device's own table (VXLAN: AddFdb's entries).
    std::vector<MacAddress> learned;        // Ports: what the bridge learned on this one.
    FakeNetlink* peer_namespace = nullptr;  // Veths: where the other end is.
    int peer_index = 0;
  };
  struct StoredRoute {
    net::Cidr dst;
    std::optional<net::Ipv4> gateway;
    int oif = 0;
  };

  absl::Status TakeInjectedFailure();
  Link* Find(absl::string_view name);
  const Link* Find(absl::string_view name) const;
  // The link, or what the adapter reports when its index lookup for `what` fails.
  absl::StatusOr<Link*> Lookup(absl::string_view name, absl::string_view what);
  // Lookup, and then what the adapter reports for a link that is not a bridge port (EOPNOTSUPP)
  // or not a VXLAN device.
  absl::StatusOr<Link*> LookupPort(absl::string_view name, absl::string_view what);
  absl::StatusOr<Link*> LookupVxlan(absl::string_view name, absl::string_view what);
  Link& Add(std::string name, std::string kind, int mtu);
  void Remove(int index);
  void Detach(Link& port);
  // The veth peer of `link`, wherever it is; nullptr for other links.
  Link* PeerOf(const Link& link) const;
  // What bridges learned through `link`, which went down: on it as a port, on its ports as a
  // bridge, and on its veth peer (whose carrier went with it).
  void ForgetLearnedThrough(Link& link);
  void FollowPortMtu(int bridge_index);
  bool IsGatewayOnLink(net::Ipv4 gateway, int oif) const;
  void AddConnectedRoute(const Link& link, const net::Cidr& address);
  void RemoveRoutesVia(int index);

  std::map<int, Link> links_;  // By index.
  std::vector<StoredRoute> routes_;
  int next_index_ = 1;
  uint32_t mac_seed_;
  std::map<int, FakeNetlink*> namespaces_;
  absl::Status injected_failure_;
};

}  // namespace weave::netlink
