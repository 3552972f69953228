#include "common/netlink/fake_netlink.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/netlink/errors.h"
#include "common/status_macros.h"

namespace weave::netlink {
namespace {

constexpr int kMinMtu = 68;
constexpr int kMaxMtu = 65535;
constexpr int kEthernetMtu = 1500;
constexpr int kLoopbackMtu = 65536;

absl::Status CheckMtu(int mtu, absl::string_view what) {
  if (mtu < kMinMtu) return ErrnoStatus(EINVAL, what, "mtu less than device minimum");
  if (mtu > kMaxMtu) return ErrnoStatus(EINVAL, what, "mtu greater than device maximum");
  return absl::OkStatus();
}

// Distinct locally administered MACs across every fake of the process.
std::atomic<uint32_t> next_mac_seed{1};

}  // namespace

FakeNetlink::FakeNetlink() : mac_seed_(next_mac_seed.fetch_add(1) << 12) {
  Link& lo = Add("lo", "", kLoopbackMtu);
  lo.info.mac = {};
}

FakeNetlink::~FakeNetlink() {
  for (auto& [index, link] : links_) {
    if (link.peer_namespace != nullptr && link.peer_namespace != this) {
      link.peer_namespace->Remove(link.peer_index);
    }
  }
}

void FakeNetlink::AddNamespace(int netns_fd, FakeNetlink* other) { namespaces_[netns_fd] = other; }

void FakeNetlink::FailNextCall(absl::Status status) { injected_failure_ = std::move(status); }

absl::StatusOr<bool> FakeNetlink::Hairpin(absl::string_view port) const {
  const Link* link = Find(port);
  if (link == nullptr) return ErrnoStatus(ENODEV, absl::StrCat("getting link ", port));
  return link->hairpin;
}

absl::StatusOr<LinkInfo> FakeNetlink::GetLink(absl::string_view name) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what = absl::StrCat("getting link ", name);
  RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
  const Link* link = Find(name);
  if (link == nullptr) return ErrnoStatus(ENODEV, what);
  return link->info;
}

absl::StatusOr<std::vector<LinkInfo>> FakeNetlink::ListLinks() {
  RETURN_IF_ERROR(TakeInjectedFailure());
  std::vector<LinkInfo> links;
  for (const auto& [index, link] : links_) links.push_back(link.info);
  return links;
}

absl::Status FakeNetlink::CreateBridge(absl::string_view name, int mtu) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what = absl::StrCat("creating bridge ", name);
  RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
  RETURN_IF_ERROR(CheckMtu(mtu, what));
  if (Find(name) != nullptr) return ErrnoStatus(EEXIST, what);
  Add(std::string(name), "bridge", mtu);
  return absl::OkStatus();
}

absl::Status FakeNetlink::CreateVethPair(absl::string_view name, absl::string_view peer_name,
                                         int mtu, int peer_netns_fd) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  std::string what = absl::StrCat("creating veth ", name, " with peer ", peer_name);
  if (peer_netns_fd >= 0) absl::StrAppend(&what, " in namespace fd ", peer_netns_fd);
  RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
  RETURN_IF_ERROR(Annotate(ValidateLinkName(peer_name), what));
  FakeNetlink* peer_namespace = this;
  if (peer_netns_fd >= 0) {
    auto it = namespaces_.find(peer_netns_fd);
    if (it == namespaces_.end()) return ErrnoStatus(EBADF, what);
    peer_namespace = it->second;
  }
  RETURN_IF_ERROR(CheckMtu(mtu, what));
  if (Find(name) != nullptr || peer_namespace->Find(peer_name) != nullptr ||
      (peer_namespace == this && name == peer_name)) {
    return ErrnoStatus(EEXIST, what);
  }
  Link& peer = peer_namespace->Add(std::string(peer_name), "veth", mtu);
  Link& host = Add(std::string(name), "veth", mtu);
  host.peer_namespace = peer_namespace;
  host.peer_index = peer.info.index;
  peer.peer_namespace = this;
  peer.peer_index = host.info.index;
  return absl::OkStatus();
}

absl::Status FakeNetlink::CreateVxlan(const VxlanSpec& spec) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what = absl::StrCat("creating VXLAN device ", spec.name);
  RETURN_IF_ERROR(Annotate(ValidateVxlanSpec(spec), what));
  if (Find(spec.name) != nullptr) return ErrnoStatus(EEXIST, what);
  if (spec.mtu < kMinMtu || spec.mtu > kMaxMtu) {
    return ErrnoStatus(EINVAL, what,
                       absl::StrCat("MTU must be between ", kMinMtu, " and ", kMaxMtu));
  }
  for (const auto& [index, link] : links_) {
    if (link.vxlan && link.vxlan->vni == spec.vni && link.vxlan->port == spec.port) {
      return ErrnoStatus(EEXIST, what, "A VXLAN device with the specified VNI already exists");
    }
  }
  Add(spec.name, "vxlan", spec.mtu).vxlan = spec;
  return absl::OkStatus();
}

absl::StatusOr<VxlanSpec> FakeNetlink::GetVxlan(absl::string_view name) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what = absl::StrCat("getting VXLAN device ", name);
  RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
  const Link* link = Find(name);
  if (link == nullptr) return ErrnoStatus(ENODEV, what);
  RETURN_IF_ERROR(Annotate(ValidateIsVxlan(link->info), what));
  VxlanSpec spec = *link->vxlan;
  spec.name = link->info.name;
  spec.mtu = link->info.mtu;
  return spec;
}

absl::Status FakeNetlink::DeleteLink(absl::string_view name) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what = absl::StrCat("deleting link ", name);
  RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
  const Link* link = Find(name);
  if (link == nullptr) return ErrnoStatus(ENODEV, what);
  if (link->info.kind.empty()) return ErrnoStatus(EOPNOTSUPP, what);
  if (link->peer_namespace != nullptr) link->peer_namespace->Remove(link->peer_index);
  Remove(link->info.index);
  return absl::OkStatus();
}

absl::Status FakeNetlink::DeleteLinkByIndex(int index) {
  auto it = links_.find(index);
  if (it == links_.end()) {
    RETURN_IF_ERROR(TakeInjectedFailure());
    return ErrnoStatus(ENODEV, absl::StrCat("deleting link #", index));
  }
  return DeleteLink(std::string(it->second.info.name));
}

absl::Status FakeNetlink::SetUp(absl::string_view name, bool up) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what = absl::StrCat("setting link ", name, up ? " up" : " down");
  RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
  Link* link = Find(name);
  if (link == nullptr) return ErrnoStatus(ENODEV, what);
  if (link->info.up == up) return absl::OkStatus();
  link->info.up = up;
  if (!up) {
    RemoveRoutesVia(link->info.index);
    ForgetLearnedThrough(*link);
    return absl::OkStatus();
  }
  for (const net::Cidr& address : link->addresses) AddConnectedRoute(*link, address);
  return absl::OkStatus();
}

absl::Status FakeNetlink::SetMtu(absl::string_view name, int mtu) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what = absl::StrCat("setting MTU of ", name, " to ", mtu);
  RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
  Link* link = Find(name);
  if (link == nullptr) return ErrnoStatus(ENODEV, what);
  RETURN_IF_ERROR(CheckMtu(mtu, what));
  link->info.mtu = mtu;
  if (link->info.kind == "bridge") link->mtu_set_by_user = true;
  if (link->info.master_index != 0) FollowPortMtu(link->info.master_index);
  return absl::OkStatus();
}

absl::Status FakeNetlink::SetMac(absl::string_view name, const MacAddress& mac) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what = absl::StrCat("setting MAC address of ", name, " to ", FormatMac(mac));
  RETURN_IF_ERROR(Annotate(ValidateUnicastMac(mac), what));
  RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
  Link* link = Find(name);
  if (link == nullptr) return ErrnoStatus(ENODEV, what);
  link->info.mac = mac;
  return absl::OkStatus();
}

absl::Status FakeNetlink::SetMaster(absl::string_view name, absl::string_view master) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  if (master.empty()) {
    const std::string what = absl::StrCat("removing ", name, " from its bridge");
    RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
    Link* link = Find(name);
    if (link == nullptr) return ErrnoStatus(ENODEV, what);
    Detach(*link);
    return absl::OkStatus();
  }
  const std::string what = absl::StrCat("adding ", name, " to bridge ", master);
  ASSIGN_OR_RETURN(Link * bridge, Lookup(master, what));
  RETURN_IF_ERROR(Annotate(ValidateLinkName(name), what));
  Link* link = Find(name);
  if (link == nullptr) return ErrnoStatus(ENODEV, what);
  if (link->info.master_index == bridge->info.index) return absl::OkStatus();
  if (bridge->info.kind != "bridge") return ErrnoStatus(EOPNOTSUPP, what);
  if (link->info.kind == "bridge") {
    return ErrnoStatus(ELOOP, what, "Can not enslave a bridge to a bridge.");
  }
  if (link->info.name == "lo") return ErrnoStatus(EINVAL, what, "Device is loopback");
  Detach(*link);
  link->info.master_index = bridge->info.index;
  FollowPortMtu(bridge->info.index);
  return absl::OkStatus();
}

absl::Status FakeNetlink::SetHairpin(absl::string_view bridge_port, bool on) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what =
      absl::StrCat("turning hairpin mode ", on ? "on" : "off", " on bridge port ", bridge_port);
  ASSIGN_OR_RETURN(Link * link, LookupPort(bridge_port, what));
  link->hairpin = on;
  return absl::OkStatus();
}

absl::Status FakeNetlink::AddAddress(absl::string_view name, const net::Cidr& address) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what = absl::StrCat("adding address ", address.ToString(), " to ", name);
  ASSIGN_OR_RETURN(Link * link, Lookup(name, what));
  if (std::find(link->addresses.begin(), link->addresses.end(), address) != link->addresses.end()) {
    return ErrnoStatus(EEXIST, what, "ipv4: Address already assigned.");
  }
  link->addresses.push_back(address);
  if (link->info.up) AddConnectedRoute(*link, address);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<net::Cidr>> FakeNetlink::ListAddresses(absl::string_view name) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  ASSIGN_OR_RETURN(Link * link, Lookup(name, absl::StrCat("listing addresses of ", name)));
  return link->addresses;
}

absl::Status FakeNetlink::DeleteAddress(absl::string_view name, const net::Cidr& address) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what = absl::StrCat("deleting address ", address.ToString(), " from ", name);
  ASSIGN_OR_RETURN(Link * link, Lookup(name, what));
  auto it = std::find(link->addresses.begin(), link->addresses.end(), address);
  if (it == link->addresses.end()) {
    return ErrnoStatus(EADDRNOTAVAIL, what, "ipv4: Address not found.");
  }
  link->addresses.erase(it);
  const int index = link->info.index;
  if (link->addresses.empty()) {
    RemoveRoutesVia(index);
    return absl::OkStatus();
  }
  // The subnet's route stays while another address of the link is in the same subnet.
  const net::Cidr subnet = address.Network();
  const bool subnet_left = std::any_of(link->addresses.begin(), link->addresses.end(),
                                       [&](const net::Cidr& a) { return a.Network() == subnet; });
  if (!subnet_left) {
    std::erase_if(routes_, [&](const StoredRoute& r) {
      return r.oif == index && !r.gateway && r.dst == subnet;
    });
  }
  return absl::OkStatus();
}

absl::Status FakeNetlink::AddRoute(const Route& route) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what = absl::StrCat("adding route ", route.ToString());
  RETURN_IF_ERROR(Annotate(ValidateRoute(route), what));
  StoredRoute stored{route.dst, route.gateway, 0};
  if (!route.dev.empty()) {
    ASSIGN_OR_RETURN(Link * link, Lookup(route.dev, what));
    stored.oif = link->info.index;
    if (!route.gateway && !link->info.up) {
      return ErrnoStatus(ENETDOWN, what, "Device for nexthop is not up");
    }
  }
  if (route.gateway) {
    // The gateway must be on a link-scope route (connected, or a device route) of the device.
    auto on_link = std::find_if(routes_.begin(), routes_.end(), [&](const StoredRoute& r) {
      return !r.gateway && r.dst.Contains(*route.gateway) &&
             (stored.oif == 0 || r.oif == stored.oif);
    });
    if (on_link == routes_.end()) {
      return ErrnoStatus(ENETUNREACH, what, "Nexthop has invalid gateway");
    }
    stored.oif = on_link->oif;
  }
  if (std::any_of(routes_.begin(), routes_.end(),
                  [&](const StoredRoute& r) { return r.dst == route.dst; })) {
    return ErrnoStatus(EEXIST, what);
  }
  routes_.push_back(stored);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Route>> FakeNetlink::ListRoutes() {
  RETURN_IF_ERROR(TakeInjectedFailure());
  std::vector<StoredRoute> sorted = routes_;
  // The kernel's trie order: by destination address, the longer prefix first.
  std::stable_sort(sorted.begin(), sorted.end(), [](const StoredRoute& a, const StoredRoute& b) {
    if (a.dst.address() != b.dst.address()) return a.dst.address() < b.dst.address();
    return a.dst.prefix_length() > b.dst.prefix_length();
  });
  std::vector<Route> routes;
  for (const StoredRoute& r : sorted) {
    routes.push_back(Route{r.dst, r.gateway, links_.at(r.oif).info.name});
  }
  return routes;
}

absl::Status FakeNetlink::DeleteRoute(const Route& route) {
  RETURN_IF_ERROR(TakeInjectedFailure());
  const std::string what = absl::StrCat("deleting route ", route.ToString());
  RETURN_IF_ERROR(Annotate(ValidateRoute(route), what));
  int oif = 0;
  if (!route.dev.empty()) {
    ASSIGN_OR_RETURN(Link * link, Lookup(route.dev, what));
    oif = link->info.index;
  }
  auto it = std::find_if(routes_.begin(), routes_.end(), [&](const StoredRoute& r) {
    return r.dst == route.dst && (!route.gateway || r.gateway == route.gateway) &&
           (oif == 0 || r.oif == oif);
  });
  if (it == routes_.end()) return ErrnoStatus(ESRCH, what);
  routes_.erase(it);
  return absl::OkStatus();
}

absl::Status FakeNetlink::TakeInjectedFailure() { return std::exchange(injected_failure_, {}); }

FakeNetlink::Link* FakeNetlink::Find(absl::string_view name) {
  auto it = std::find_if(links_.begin(), links_.end(),
                         [&](const auto& entry) { return entry.second.info.name == name; });
  return it == links_.end() ? nullptr : &it->second;
}

const FakeNetlink::Link* FakeNetlink::Find(absl::string_view name) const {
  return const_cast<FakeNetlink*>(this)->Find(name);
}

absl::StatusOr<FakeNetlink::Link*> FakeNetlink::Lookup(absl::string_view name,
                                                       absl::string_view what) {
  const std::string lookup = absl::StrCat("getting link ", name);
  RETURN_IF_ERROR(Annotate(Annotate(ValidateLinkName(name), lookup), what));
  Link* link = Find(name);
  if (link == nullptr) return Annotate(ErrnoStatus(ENODEV, lookup), what);
  return link;
}

absl::StatusOr<FakeNetlink::Link*> FakeNetlink::LookupPort(absl::string_view name,
                                                           absl::string_view what) {
  ASSIGN_OR_RETURN(Link * link, Lookup(name, what));
  if (link->info.master_index == 0) return ErrnoStatus(EOPNOTSUPP, what);
  return link;
}

absl::StatusOr<FakeNetlink::Link*> FakeNetlink::LookupVxlan(absl::string_view name,
                                                            absl::string_view what) {
  ASSIGN_OR_RETURN(Link * link, Lookup(name, what));
  RETURN_IF_ERROR(Annotate(ValidateIsVxlan(link->info), what));
  return link;
}

FakeNetlink::Link& FakeNetlink::Add(std::string name, std::string kind, int mtu) {
  const int index = next_index_++;
  Link& link = links_[index];
  link.info.index = index;
  link.info.name = std::move(name);
  link.info.kind = std::move(kind);
  link.info.mtu = mtu;
  const uint32_t seed = mac_seed_ + static_cast<uint32_t>(index);
  link.info.mac = {0x02,
                   0xfa,
                   static_cast<uint8_t>(seed >> 24),
                   static_cast<uint8_t>(seed >> 16),
                   static_cast<uint8_t>(seed >> 8),
                   static_cast<uint8_t>(seed)};
  return link;
}

void FakeNetlink::Remove(int index) {
  auto it = links_.find(index);
  if (it == links_.end()) return;
  Link& link = it->second;
  Detach(link);
  for (auto& [port_index, port] : links_) {
    if (port.info.master_index == index) Detach(port);
  }
  RemoveRoutesVia(index);
  links_.erase(it);
}

void FakeNetlink::Detach(Link& port) {
  const int bridge = port.info.master_index;
  if (bridge == 0) return;
  port.info.master_index = 0;
  port.hairpin = false;
  port.isolated = false;
  port.learned.clear();
  FollowPortMtu(bridge);
}

void FakeNetlink::FollowPortMtu(int bridge_index) {
  Link& bridge = links_.at(bridge_index);
  if (bridge.mtu_set_by_user) return;
  int mtu = 0;
  for (const auto& [index, port] : links_) {
    if (port.info.master_index == bridge_index && (mtu == 0 || port.info.mtu < mtu)) {
      mtu = port.info.mtu;
    }
  }
  bridge.info.mtu = mtu == 0 ? kEthernetMtu : mtu;
}

void FakeNetlink::AddConnectedRoute(const Link& link, const net::Cidr& address) {
  if (address.prefix_length() == 32) return;
  const net::Cidr subnet = address.Network();
  const bool present = std::any_of(routes_.begin(), routes_.end(), [&](const StoredRoute& r) {
    return r.oif == link.info.index && !r.gateway && r.dst == subnet;
  });
  if (!present) routes_.push_back(StoredRoute{subnet, std::nullopt, link.info.index});
}

void FakeNetlink::RemoveRoutesVia(int index) {
  std::erase_if(routes_, [index](const StoredRoute& r) { return r.oif == index; });
}

}  // namespace weave::netlink
