#include "common/netlink/netlink_conformance.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "test/harness/status_assertions.h"

namespace weave::netlink::testing {
namespace {

using ::Catch::Matchers::StartsWith;

// Fails unless `expr` (a Status or StatusOr) has `code` and its message starts with `prefix`.
#define CHECK_ERROR(expr, expected_code, expected_prefix)                                 \
  do {                                                                                    \
    const absl::Status status_ = ::weave::testing::internal::StatusOf(expr);              \
    INFO(status_.ToString());                                                             \
    CHECK(status_.code() == (expected_code));                                             \
    CHECK_THAT(std::string(status_.message()), StartsWith(std::string(expected_prefix))); \
  } while (0)

net::Cidr Cidr(absl::string_view text) { return *net::Cidr::Parse(text); }
net::Ipv4 Ip(absl::string_view text) { return *net::Ipv4::Parse(text); }

constexpr int kMtu = 1376;

std::vector<Route> Routes(Netlink& nl) {
  absl::StatusOr<std::vector<Route>> routes = nl.ListRoutes();
  CHECK_OK(routes);
  return routes.value_or(std::vector<Route>{});
}

// The link `name`, which must be a veth with kMtu.
LinkInfo GetVeth(Netlink& nl, absl::string_view name) {
  ASSIGN_OR_REQUIRE(LinkInfo link, nl.GetLink(name));
  CHECK(link.kind == "veth");
  CHECK(link.mtu == kMtu);
  return link;
}

// A port flag as `read` (env.hairpin, env.isolated) reports it.
bool PortFlag(const std::function<absl::StatusOr<bool>(const std::string&)>& read,
              const std::string& port) {
  absl::StatusOr<bool> flag = read(port);
  CHECK_OK(flag);
  return flag.value_or(false);
}

bool Hairpin(const ConformanceEnv& env, const std::string& port) {
  return PortFlag(env.hairpin, port);
}

bool Isolated(const ConformanceEnv& env, const std::string& port) {
  return PortFlag(env.isolated, port);
}

bool IsMulticast(const MacAddress& mac) { return (mac[0] & 1) != 0; }

// FDB entries in one order, since the kernel's is no contract.
std::vector<FdbEntry> Sorted(std::vector<FdbEntry> entries) {
  std::sort(entries.begin(), entries.end(), [](const FdbEntry& a, const FdbEntry& b) {
    return std::tie(a.mac, a.dst, a.permanent, a.self) <
           std::tie(b.mac, b.dst, b.permanent, b.self);
  });
  return entries;
}

// ListFdb of `device`, Sorted, without the multicast addresses that a link other than a VXLAN
// device lists in its own table: they come from its IPv4 and IPv6 memberships, which the fake does
// not model.
std::vector<FdbEntry> Fdb(Netlink& nl, absl::string_view device) {
  absl::StatusOr<LinkInfo> link = nl.GetLink(device);
  absl::StatusOr<std::vector<FdbEntry>> listed = nl.ListFdb(device);
  CHECK_OK(link);
  CHECK_OK(listed);
  std::vector<FdbEntry> entries = listed.value_or(std::vector<FdbEntry>{});
  if (link.ok() && link->kind != "vxlan") {
    std::erase_if(entries, [](const FdbEntry& e) { return e.self && IsMulticast(e.mac); });
  }
  return Sorted(std::move(entries));
}

// An entry of a VXLAN device's own table, as AddFdb makes it.
FdbEntry Remote(const MacAddress& mac, absl::string_view dst) {
  return {mac, Ip(dst), /*permanent=*/true, /*self=*/true};
}

// A bridge's entry for a port: the port's own MAC (permanent) or one it learned there.
FdbEntry OnPort(const MacAddress& mac, bool permanent) {
  return {mac, std::nullopt, permanent, /*self=*/false};
}

std::vector<net::Cidr> Addresses(Netlink& nl, absl::string_view name) {
  absl::StatusOr<std::vector<net::Cidr>> addresses = nl.ListAddresses(name);
  CHECK_OK(addresses);
  return addresses.value_or(std::vector<net::Cidr>{});
}

}  // namespace

void CheckLinkLifecycle(const ConformanceEnv& env) {
  Netlink& nl = *env.host;
  ASSIGN_OR_REQUIRE(const std::vector<LinkInfo> fresh, nl.ListLinks());
  REQUIRE(fresh.size() == 1);
  CHECK(fresh[0] == LinkInfo{.index = 1, .name = "lo", .mtu = 65536});

  REQUIRE_OK(nl.CreateBridge("br-test", kMtu));
  ASSIGN_OR_REQUIRE(const LinkInfo bridge, nl.GetLink("br-test"));
  CHECK(bridge.index > 1);
  CHECK(bridge.kind == "bridge");
  CHECK(bridge.mtu == kMtu);
  CHECK_FALSE(bridge.up);
  CHECK(bridge.master_index == 0);
  CHECK_OK(ValidateUnicastMac(bridge.mac));
  CHECK_ERROR(nl.CreateBridge("br-test", kMtu), absl::StatusCode::kAlreadyExists,
              "creating bridge br-test: EEXIST");

  REQUIRE_OK(nl.CreateVethPair("veth-a", "veth-b", kMtu, -1));
  const LinkInfo a = GetVeth(nl, "veth-a");
  const LinkInfo b = GetVeth(nl, "veth-b");
  CHECK(a.index != b.index);
  // A pair that cannot be made in full leaves nothing behind.
  CHECK_ERROR(nl.CreateVethPair("veth-a", "veth-c", kMtu, -1), absl::StatusCode::kAlreadyExists,
              "creating veth veth-a with peer veth-c: EEXIST");
  CHECK_ERROR(nl.CreateVethPair("veth-c", "br-test", kMtu, -1), absl::StatusCode::kAlreadyExists,
              "creating veth veth-c with peer br-test: EEXIST");
  CHECK_ERROR(nl.GetLink("veth-c"), absl::StatusCode::kNotFound, "getting link veth-c: ENODEV");
  ASSIGN_OR_REQUIRE(const std::vector<LinkInfo> all, nl.ListLinks());
  CHECK(all == std::vector<LinkInfo>{fresh[0], bridge, b, a});

  REQUIRE_OK(nl.SetUp("veth-a", true));
  CHECK(nl.GetLink("veth-a")->up);
  REQUIRE_OK(nl.SetUp("veth-a", false));
  CHECK_FALSE(nl.GetLink("veth-a")->up);
  REQUIRE_OK(nl.SetMtu("veth-a", 1400));
  CHECK(nl.GetLink("veth-a")->mtu == 1400);
  CHECK_ERROR(nl.SetMtu("veth-a", 20), absl::StatusCode::kInvalidArgument,
              "setting MTU of veth-a to 20: EINVAL");
  const MacAddress mac = {0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc};
  REQUIRE_OK(nl.SetMac("veth-a", mac));
  CHECK(nl.GetLink("veth-a")->mac == mac);
  CHECK_ERROR(nl.SetMac("veth-a", {0x01, 0, 0x5e, 0, 0, 1}), absl::StatusCode::kInvalidArgument,
              "setting MAC address of veth-a to 01:00:5e:00:00:01: ");
  CHECK_ERROR(nl.SetUp("missing", true), absl::StatusCode::kNotFound,
              "setting link missing up: ENODEV");
  CHECK_ERROR(nl.GetLink("a-name-too-long-for-linux"), absl::StatusCode::kInvalidArgument,
              "getting link a-name-too-long-for-linux: ");

  REQUIRE_OK(nl.DeleteLink("veth-a"));
  CHECK_ERROR(nl.GetLink("veth-b"), absl::StatusCode::kNotFound, "getting link veth-b: ENODEV");
  CHECK_ERROR(nl.DeleteLink("veth-a"), absl::StatusCode::kNotFound, "deleting link veth-a: ENODEV");
  CHECK_ERROR(nl.DeleteLink("lo"), absl::StatusCode::kFailedPrecondition,
              "deleting link lo: EOPNOTSUPP");
  const int bridge_index = nl.GetLink("br-test")->index;
  REQUIRE_OK(nl.DeleteLinkByIndex(bridge_index));
  CHECK_ERROR(nl.DeleteLinkByIndex(bridge_index), absl::StatusCode::kNotFound,
              absl::StrCat("deleting link #", bridge_index, ": ENODEV"));
  CHECK(nl.ListLinks()->size() == 1);
}

void CheckBridgePorts(const ConformanceEnv& env) {
  Netlink& nl = *env.host;
  REQUIRE_OK(nl.CreateBridge("weave", kMtu));
  REQUIRE_OK(nl.CreateVethPair("vethwepl1", "vethwepg1", kMtu, -1));
  REQUIRE_OK(nl.CreateVethPair("vethwepl2", "vethwepg2", 1500, -1));
  ASSIGN_OR_REQUIRE(const LinkInfo bridge, nl.GetLink("weave"));

  REQUIRE_OK(nl.SetMaster("vethwepl1", "weave"));
  CHECK(nl.GetLink("vethwepl1")->master_index == bridge.index);
  REQUIRE_OK(nl.SetMaster("vethwepl1", "weave"));  // Already there: nothing to do.
  CHECK(nl.GetLink("weave")->mtu == kMtu);
  REQUIRE_OK(nl.SetHairpin("vethwepl1", true));
  CHECK(Hairpin(env, "vethwepl1"));
  REQUIRE_OK(nl.SetHairpin("vethwepl1", false));
  CHECK_FALSE(Hairpin(env, "vethwepl1"));
  REQUIRE_OK(nl.SetHairpin("vethwepl1", true));

  // Leaving the bridge resets hairpin; a bridge whose MTU was never set follows its ports.
  REQUIRE_OK(nl.SetMaster("vethwepl1", ""));
  CHECK(nl.GetLink("vethwepl1")->master_index == 0);
  CHECK_FALSE(Hairpin(env, "vethwepl1"));
  CHECK(nl.GetLink("weave")->mtu == 1500);
  REQUIRE_OK(nl.SetMaster("vethwepl1", ""));  // No bridge: nothing to do.
  REQUIRE_OK(nl.SetMtu("weave", kMtu));       // Now pinned.
  REQUIRE_OK(nl.SetMaster("vethwepl2", "weave"));
  REQUIRE_OK(nl.SetMaster("vethwepl2", ""));
  CHECK(nl.GetLink("weave")->mtu == kMtu);

  CHECK_ERROR(nl.SetHairpin("vethwepl1", true), absl::StatusCode::kFailedPrecondition,
              "turning hairpin mode on on bridge port vethwepl1: EOPNOTSUPP");
  CHECK_ERROR(nl.SetHairpin("missing", true), absl::StatusCode::kNotFound,
              "turning hairpin mode on on bridge port missing: getting link missing: ENODEV");
  CHECK_ERROR(nl.SetMaster("vethwepl1", "vethwepg1"), absl::StatusCode::kFailedPrecondition,
              "adding vethwepl1 to bridge vethwepg1: EOPNOTSUPP");
  CHECK_ERROR(nl.SetMaster("vethwepl1", "missing"), absl::StatusCode::kNotFound,
              "adding vethwepl1 to bridge missing: getting link missing: ENODEV");
  CHECK_ERROR(nl.SetMaster("missing", "weave"), absl::StatusCode::kNotFound,
              "adding missing to bridge weave: ENODEV");
  REQUIRE_OK(nl.CreateBridge("other", kMtu));
  CHECK_ERROR(nl.SetMaster("other", "weave"), absl::StatusCode::kInvalidArgument,
              "adding other to bridge weave: ELOOP");

  // Deleting the bridge frees its ports; deleting a port leaves the bridge.
  REQUIRE_OK(nl.SetMaster("vethwepl1", "weave"));
  REQUIRE_OK(nl.SetMaster("vethwepl2", "weave"));
  REQUIRE_OK(nl.DeleteLink("vethwepg2"));
  CHECK_ERROR(nl.GetLink("vethwepl2"), absl::StatusCode::kNotFound, "getting link vethwepl2");
  REQUIRE_OK(nl.DeleteLink("weave"));
  CHECK(nl.GetLink("vethwepl1")->master_index == 0);
}

void CheckVethAcrossNamespaces(const ConformanceEnv& env) {
  Netlink& host = *env.host;
  Netlink& pod = *env.peer;
  REQUIRE_OK(host.CreateVethPair("vethwepl1", "eth0", kMtu, env.peer_netns_fd));
  GetVeth(host, "vethwepl1");
  GetVeth(pod, "eth0");
  CHECK_ERROR(host.GetLink("eth0"), absl::StatusCode::kNotFound, "getting link eth0: ENODEV");

  const std::string fd = absl::StrCat(env.peer_netns_fd);
  CHECK_ERROR(
      host.CreateVethPair("vethwepl2", "eth0", kMtu, env.peer_netns_fd),
      absl::StatusCode::kAlreadyExists,
      absl::StrCat("creating veth vethwepl2 with peer eth0 in namespace fd ", fd, ": EEXIST"));
  CHECK_ERROR(host.GetLink("vethwepl2"), absl::StatusCode::kNotFound, "getting link vethwepl2");
  // The same name on both sides is fine: they are different namespaces.
  REQUIRE_OK(host.CreateVethPair("eth1", "eth1", kMtu, env.peer_netns_fd));

  REQUIRE_OK(host.DeleteLink("vethwepl1"));
  CHECK_ERROR(pod.GetLink("eth0"), absl::StatusCode::kNotFound, "getting link eth0: ENODEV");
  REQUIRE_OK(pod.DeleteLink("eth1"));
  CHECK_ERROR(host.GetLink("eth1"), absl::StatusCode::kNotFound, "getting link eth1: ENODEV");
}

void CheckAddressesAndRoutes(const ConformanceEnv& env) {
  Netlink& host = *env.host;
  Netlink& pod = *env.peer;
  REQUIRE_OK(host.CreateBridge("weave", kMtu));
  REQUIRE_OK(host.CreateVethPair("vethwepl1", "eth0", kMtu, env.peer_netns_fd));
  REQUIRE_OK(host.SetMaster("vethwepl1", "weave"));
  REQUIRE_OK(host.AddAddress("weave", Cidr("10.99.0.1/24")));
  REQUIRE_OK(host.SetUp("weave", true));
  REQUIRE_OK(host.SetUp("vethwepl1", true));
  ASSIGN_OR_REQUIRE(const std::vector<Route> host_routes, host.ListRoutes());
  CHECK(host_routes == std::vector<Route>{{Cidr("10.99.0.0/24"), std::nullopt, "weave"}});

  // Addresses: exact duplicates fail, the same address with another prefix does not.
  REQUIRE_OK(pod.AddAddress("eth0", Cidr("10.99.0.2/24")));
  CHECK_ERROR(pod.AddAddress("eth0", Cidr("10.99.0.2/24")), absl::StatusCode::kAlreadyExists,
              "adding address 10.99.0.2/24 to eth0: EEXIST");
  REQUIRE_OK(pod.AddAddress("eth0", Cidr("10.99.0.2/16")));
  CHECK(Addresses(pod, "eth0") ==
        std::vector<net::Cidr>{Cidr("10.99.0.2/24"), Cidr("10.99.0.2/16")});
  REQUIRE_OK(pod.DeleteAddress("eth0", Cidr("10.99.0.2/16")));
  CHECK_ERROR(pod.DeleteAddress("eth0", Cidr("10.99.0.2/16")), absl::StatusCode::kNotFound,
              "deleting address 10.99.0.2/16 from eth0: EADDRNOTAVAIL");
  CHECK(Addresses(pod, "lo").empty());
  CHECK_ERROR(pod.ListAddresses("missing"), absl::StatusCode::kNotFound,
              "listing addresses of missing: getting link missing: ENODEV");

  // No connected route while eth0 is down, so its gateway is unreachable.
  const Route default_route{Cidr("0.0.0.0/0"), Ip("10.99.0.1"), "eth0"};
  CHECK(Routes(pod).empty());
  CHECK_ERROR(pod.AddRoute(default_route), absl::StatusCode::kFailedPrecondition,
              "adding route default via 10.99.0.1 dev eth0: ENETUNREACH");
  CHECK_ERROR(pod.AddRoute({Cidr("10.97.0.0/16"), std::nullopt, "eth0"}),
              absl::StatusCode::kFailedPrecondition,
              "adding route 10.97.0.0/16 dev eth0: ENETDOWN");
  REQUIRE_OK(pod.SetUp("eth0", true));
  REQUIRE_OK(pod.AddRoute(default_route));
  const Route connected{Cidr("10.99.0.0/24"), std::nullopt, "eth0"};
  CHECK(Routes(pod) == std::vector<Route>{default_route, connected});

  CHECK_ERROR(pod.AddRoute(default_route), absl::StatusCode::kAlreadyExists,
              "adding route default via 10.99.0.1 dev eth0: EEXIST");
  CHECK_ERROR(pod.AddRoute({Cidr("0.0.0.0/0"), Ip("10.99.0.9"), "eth0"}),
              absl::StatusCode::kAlreadyExists,
              "adding route default via 10.99.0.9 dev eth0: EEXIST");
  CHECK_ERROR(pod.AddRoute({Cidr("10.98.0.0/16"), Ip("10.55.0.1"), "eth0"}),
              absl::StatusCode::kFailedPrecondition,
              "adding route 10.98.0.0/16 via 10.55.0.1 dev eth0: ENETUNREACH");
  CHECK_ERROR(pod.AddRoute({Cidr("10.98.0.1/16"), std::nullopt, "eth0"}),
              absl::StatusCode::kInvalidArgument, "adding route 10.98.0.1/16 dev eth0: ");
  CHECK_ERROR(pod.AddRoute({Cidr("10.98.0.0/16"), std::nullopt, ""}),
              absl::StatusCode::kInvalidArgument, "adding route 10.98.0.0/16: ");
  CHECK_ERROR(pod.AddRoute({Cidr("10.98.0.0/16"), std::nullopt, "missing"}),
              absl::StatusCode::kNotFound,
              "adding route 10.98.0.0/16 dev missing: getting link missing: ENODEV");

  // A device route makes its subnet a place for gateways; without a device the kernel finds it.
  REQUIRE_OK(pod.AddRoute({Cidr("10.97.0.0/16"), std::nullopt, "eth0"}));
  REQUIRE_OK(pod.AddRoute({Cidr("10.96.0.0/16"), Ip("10.97.0.5"), ""}));
  const Route via_device_route{Cidr("10.96.0.0/16"), Ip("10.97.0.5"), "eth0"};
  CHECK(Routes(pod) == std::vector<Route>{default_route,
                                          via_device_route,
                                          {Cidr("10.97.0.0/16"), std::nullopt, "eth0"},
                                          connected});
  CHECK_ERROR(pod.DeleteRoute({Cidr("10.97.0.0/16"), Ip("10.99.0.50"), "eth0"}),
              absl::StatusCode::kNotFound,
              "deleting route 10.97.0.0/16 via 10.99.0.50 dev eth0: ESRCH");
  REQUIRE_OK(pod.DeleteRoute({Cidr("10.96.0.0/16"), Ip("10.97.0.5"), ""}));
  CHECK_ERROR(pod.DeleteRoute({Cidr("10.96.0.0/16"), Ip("10.97.0.5"), ""}),
              absl::StatusCode::kNotFound, "deleting route 10.96.0.0/16 via 10.97.0.5: ESRCH");
  REQUIRE_OK(pod.DeleteRoute({Cidr("10.97.0.0/16"), std::nullopt, "eth0"}));

  // Down flushes every route through the link; up brings back only the connected one.
  REQUIRE_OK(pod.SetUp("eth0", false));
  CHECK(Routes(pod).empty());
  REQUIRE_OK(pod.SetUp("eth0", true));
  CHECK(Routes(pod) == std::vector<Route>{connected});
  // So does deleting the last address.
  REQUIRE_OK(pod.AddRoute(default_route));
  REQUIRE_OK(pod.DeleteAddress("eth0", Cidr("10.99.0.2/24")));
  CHECK(Routes(pod).empty());
  CHECK(Addresses(pod, "eth0").empty());
}

void CheckVxlanDevices(const ConformanceEnv& env) {
  Netlink& nl = *env.host;
  const VxlanSpec spec{
      .name = "vxlan-weave", .vni = 42, .port = 4789, .mtu = kMtu, .learning = false};
  REQUIRE_OK(nl.CreateVxlan(spec));
  ASSIGN_OR_REQUIRE(const LinkInfo link, nl.GetLink("vxlan-weave"));
  CHECK(link.kind == "vxlan");
  CHECK(link.mtu == kMtu);
  CHECK_FALSE(link.up);
  CHECK_OK(ValidateUnicastMac(link.mac));
  ASSIGN_OR_REQUIRE(const VxlanSpec read_back, nl.GetVxlan("vxlan-weave"));
  CHECK(read_back == spec);
  const VxlanSpec other{.name = "vx2", .vni = 0xffffff, .port = 8472, .mtu = 9000};
  REQUIRE_OK(nl.CreateVxlan(other));
  CHECK(nl.GetVxlan("vx2").value_or(VxlanSpec{}) == other);
  ASSIGN_OR_REQUIRE(const std::vector<LinkInfo> links, nl.ListLinks());
  REQUIRE(links.size() == 3);
  CHECK(links[1] == link);
  CHECK(links[2].kind == "vxlan");

  // One device per VNI and port; invalid specs fail before the kernel sees them.
  CHECK_ERROR(nl.CreateVxlan(spec), absl::StatusCode::kAlreadyExists,
              "creating VXLAN device vxlan-weave: EEXIST");
  CHECK_ERROR(nl.CreateVxlan({.name = "vx3", .vni = 42, .port = 4789, .mtu = kMtu}),
              absl::StatusCode::kAlreadyExists, "creating VXLAN device vx3: EEXIST");
  CHECK_ERROR(nl.CreateVxlan({.name = "vx3", .vni = 1 << 24, .port = 4789, .mtu = kMtu}),
              absl::StatusCode::kInvalidArgument,
              "creating VXLAN device vx3: VNI 16777216 does not fit in 24 bits");
  CHECK_ERROR(nl.CreateVxlan({.name = "vx3", .vni = 43, .port = 0, .mtu = kMtu}),
              absl::StatusCode::kInvalidArgument, "creating VXLAN device vx3: UDP port 0");
  CHECK_ERROR(nl.CreateVxlan({.name = "vx3", .vni = 43, .port = 4789, .mtu = 20}),
              absl::StatusCode::kInvalidArgument, "creating VXLAN device vx3: EINVAL");
  CHECK_ERROR(nl.CreateVxlan({.name = "vx/3", .vni = 43, .port = 4789, .mtu = kMtu}),
              absl::StatusCode::kInvalidArgument, "creating VXLAN device vx/3: ");
  CHECK_ERROR(nl.GetLink("vx3"), absl::StatusCode::kNotFound, "getting link vx3: ENODEV");
  REQUIRE_OK(nl.CreateVxlan({.name = "vx3", .vni = 42, .port = 4790, .mtu = kMtu}));

  CHECK_ERROR(nl.GetVxlan("missing"), absl::StatusCode::kNotFound,
              "getting VXLAN device missing: ENODEV");
  CHECK_ERROR(nl.GetVxlan("lo"), absl::StatusCode::kFailedPrecondition,
              "getting VXLAN device lo: lo is not a VXLAN device");

  // An ordinary link otherwise: its MTU changes, it joins a bridge, it goes.
  REQUIRE_OK(nl.SetMtu("vxlan-weave", 1400));
  CHECK(nl.GetVxlan("vxlan-weave").value_or(VxlanSpec{}).mtu == 1400);
  REQUIRE_OK(nl.CreateBridge("weave", kMtu));
  CHECK_ERROR(nl.GetVxlan("weave"), absl::StatusCode::kFailedPrecondition,
              "getting VXLAN device weave: weave is not a VXLAN device");
  REQUIRE_OK(nl.SetMaster("vxlan-weave", "weave"));
  REQUIRE_OK(nl.SetUp("vxlan-weave", true));
  CHECK(nl.GetLink("vxlan-weave")->master_index == nl.GetLink("weave")->index);
  REQUIRE_OK(nl.DeleteLink("vxlan-weave"));
  CHECK_ERROR(nl.GetVxlan("vxlan-weave"), absl::StatusCode::kNotFound,
              "getting VXLAN device vxlan-weave: ENODEV");
}

void CheckVxlanFdb(const ConformanceEnv& env) {
  Netlink& nl = *env.host;
  REQUIRE_OK(nl.CreateVxlan({.name = "vxlan-weave", .vni = 42, .port = 4789, .mtu = kMtu}));
  CHECK(Fdb(nl, "vxlan-weave").empty());
  const MacAddress flood{};
  const MacAddress unicast = {0x02, 0, 0, 0, 0, 0x01};
  const MacAddress multicast = {0x01, 0, 0x5e, 0, 0, 0xfb};

  // The flood list and multicast MACs collect remotes; a unicast MAC keeps its first.
  REQUIRE_OK(nl.AddFdb("vxlan-weave", flood, Ip("10.0.0.1")));
  REQUIRE_OK(nl.AddFdb("vxlan-weave", flood, Ip("10.0.0.2")));
  REQUIRE_OK(nl.AddFdb("vxlan-weave", flood, Ip("10.0.0.1")));  // Already there: nothing to do.
  REQUIRE_OK(nl.AddFdb("vxlan-weave", unicast, Ip("10.0.0.1")));
  REQUIRE_OK(nl.AddFdb("vxlan-weave", unicast, Ip("10.0.0.1")));
  REQUIRE_OK(nl.AddFdb("vxlan-weave", unicast, Ip("10.0.0.2")));  // Acked, ignored.
  REQUIRE_OK(nl.AddFdb("vxlan-weave", multicast, Ip("10.0.0.2")));
  REQUIRE_OK(nl.AddFdb("vxlan-weave", multicast, Ip("10.0.0.3")));
  CHECK(Fdb(nl, "vxlan-weave") ==
        std::vector<FdbEntry>{Remote(flood, "10.0.0.1"), Remote(flood, "10.0.0.2"),
                              Remote(multicast, "10.0.0.2"), Remote(multicast, "10.0.0.3"),
                              Remote(unicast, "10.0.0.1")});

  // Permanent entries survive the device going up and down.
  REQUIRE_OK(nl.SetUp("vxlan-weave", true));
  REQUIRE_OK(nl.SetUp("vxlan-weave", false));
  CHECK(Fdb(nl, "vxlan-weave").size() == 5);

  // Deleting: a MAC without the entry is NotFound, a MAC with other remotes only is acked.
  REQUIRE_OK(nl.DeleteFdb("vxlan-weave", unicast, Ip("10.0.0.2")));
  REQUIRE_OK(nl.DeleteFdb("vxlan-weave", flood, Ip("10.0.0.1")));
  REQUIRE_OK(nl.DeleteFdb("vxlan-weave", multicast, Ip("10.0.0.2")));
  REQUIRE_OK(nl.DeleteFdb("vxlan-weave", multicast, Ip("10.0.0.3")));
  CHECK(Fdb(nl, "vxlan-weave") ==
        std::vector<FdbEntry>{Remote(flood, "10.0.0.2"), Remote(unicast, "10.0.0.1")});
  REQUIRE_OK(nl.DeleteFdb("vxlan-weave", unicast, Ip("10.0.0.1")));
  CHECK_ERROR(nl.DeleteFdb("vxlan-weave", unicast, Ip("10.0.0.1")), absl::StatusCode::kNotFound,
              "deleting FDB entry 02:00:00:00:00:01 dst 10.0.0.1 from vxlan-weave: ENOENT");
  CHECK(Fdb(nl, "vxlan-weave") == std::vector<FdbEntry>{Remote(flood, "10.0.0.2")});

  // As a bridge port, the device also lists the bridge's entry for its MAC.
  REQUIRE_OK(nl.CreateBridge("weave", kMtu));
  REQUIRE_OK(nl.SetMaster("vxlan-weave", "weave"));
  ASSIGN_OR_REQUIRE(const LinkInfo vxlan, nl.GetLink("vxlan-weave"));
  CHECK(Fdb(nl, "vxlan-weave") == Sorted({Remote(flood, "10.0.0.2"), OnPort(vxlan.mac, true)}));

  // Only VXLAN devices take entries; missing links are NotFound.
  REQUIRE_OK(nl.CreateVethPair("veth-a", "veth-b", kMtu, -1));
  CHECK_ERROR(nl.AddFdb("veth-a", flood, Ip("10.0.0.1")), absl::StatusCode::kFailedPrecondition,
              "adding FDB entry 00:00:00:00:00:00 dst 10.0.0.1 to veth-a: veth-a is not a VXLAN "
              "device");
  CHECK_ERROR(nl.DeleteFdb("weave", flood, Ip("10.0.0.1")), absl::StatusCode::kFailedPrecondition,
              "deleting FDB entry 00:00:00:00:00:00 dst 10.0.0.1 from weave: weave is not a VXLAN "
              "device");
  CHECK_ERROR(nl.AddFdb("missing", flood, Ip("10.0.0.1")), absl::StatusCode::kNotFound,
              "adding FDB entry 00:00:00:00:00:00 dst 10.0.0.1 to missing: getting link missing: "
              "ENODEV");
  CHECK_ERROR(nl.ListFdb("missing"), absl::StatusCode::kNotFound,
              "listing FDB of missing: getting link missing: ENODEV");
  CHECK(Fdb(nl, "veth-a").empty());
  REQUIRE_OK(nl.DeleteLink("vxlan-weave"));
  CHECK_ERROR(nl.ListFdb("vxlan-weave"), absl::StatusCode::kNotFound, "listing FDB of vxlan-weave");
}

void CheckPortIsolationAndLearning(const ConformanceEnv& env) {
  Netlink& nl = *env.host;
  REQUIRE_OK(nl.CreateBridge("weave", kMtu));
  REQUIRE_OK(nl.CreateVethPair("vethwepl1", "vethwepg1", kMtu, -1));
  REQUIRE_OK(nl.CreateVethPair("vethwepl2", "vethwepg2", kMtu, -1));
  REQUIRE_OK(nl.SetMaster("vethwepl1", "weave"));
  REQUIRE_OK(nl.SetMaster("vethwepl2", "weave"));

  REQUIRE_OK(nl.SetIsolated("vethwepl1", true));
  CHECK(Isolated(env, "vethwepl1"));
  CHECK_FALSE(Isolated(env, "vethwepl2"));
  REQUIRE_OK(nl.SetIsolated("vethwepl1", false));
  CHECK_FALSE(Isolated(env, "vethwepl1"));
  REQUIRE_OK(nl.SetIsolated("vethwepl1", true));
  REQUIRE_OK(nl.SetMaster("vethwepl1", ""));  // Leaving the bridge resets isolation.
  CHECK_FALSE(Isolated(env, "vethwepl1"));
  CHECK_ERROR(nl.SetIsolated("vethwepl1", true), absl::StatusCode::kFailedPrecondition,
              "turning isolation on on bridge port vethwepl1: EOPNOTSUPP");
  CHECK_ERROR(nl.SetIsolated("missing", false), absl::StatusCode::kNotFound,
              "turning isolation off on bridge port missing: getting link missing: ENODEV");
  CHECK_ERROR(nl.FlushLearned("vethwepl1"), absl::StatusCode::kFailedPrecondition,
              "flushing learned entries of bridge port vethwepl1: EOPNOTSUPP");
  CHECK_ERROR(nl.FlushLearned("missing"), absl::StatusCode::kNotFound,
              "flushing learned entries of bridge port missing: getting link missing: ENODEV");
  REQUIRE_OK(nl.SetMaster("vethwepl1", "weave"));

  // A port lists its own MAC, and what the bridge learns there until it is flushed.
  ASSIGN_OR_REQUIRE(const LinkInfo port, nl.GetLink("vethwepl1"));
  ASSIGN_OR_REQUIRE(const LinkInfo sender, nl.GetLink("vethwepg1"));
  CHECK(Fdb(nl, "vethwepl1") == std::vector<FdbEntry>{OnPort(port.mac, true)});
  for (const char* link : {"weave", "vethwepl1", "vethwepg1"}) REQUIRE_OK(nl.SetUp(link, true));
  REQUIRE_OK(env.send_frame("vethwepg1"));
  const std::vector<FdbEntry> learned = Sorted({OnPort(port.mac, true), OnPort(sender.mac, false)});
  CHECK(Fdb(nl, "vethwepl1") == learned);
  CHECK(Fdb(nl, "vethwepl2") == std::vector<FdbEntry>{OnPort(nl.GetLink("vethwepl2")->mac, true)});
  CHECK(Fdb(nl, "vethwepg1").empty());  // Not a port: nothing of the bridge's.
  REQUIRE_OK(nl.FlushLearned("vethwepl1"));
  CHECK(Fdb(nl, "vethwepl1") == std::vector<FdbEntry>{OnPort(port.mac, true)});
  REQUIRE_OK(nl.FlushLearned("vethwepl1"));  // Nothing left to forget.

  // So does a port going down, and one leaving its bridge forgets everything.
  REQUIRE_OK(env.send_frame("vethwepg1"));
  CHECK(Fdb(nl, "vethwepl1") == learned);
  REQUIRE_OK(nl.SetUp("vethwepl1", false));
  CHECK(Fdb(nl, "vethwepl1") == std::vector<FdbEntry>{OnPort(port.mac, true)});
  REQUIRE_OK(nl.SetUp("vethwepl1", true));
  REQUIRE_OK(env.send_frame("vethwepg1"));
  CHECK(Fdb(nl, "vethwepl1") == learned);
  REQUIRE_OK(nl.SetMaster("vethwepl1", ""));
  CHECK(Fdb(nl, "vethwepl1").empty());
}

const std::vector<ConformanceScenario>& ConformanceScenarios() {
  static const auto* const scenarios = new std::vector<ConformanceScenario>{
      {"link lifecycle", CheckLinkLifecycle},
      {"bridge ports", CheckBridgePorts},
      {"veth across namespaces", CheckVethAcrossNamespaces},
      {"addresses and routes", CheckAddressesAndRoutes},
      {"VXLAN devices", CheckVxlanDevices},
      {"VXLAN forwarding database", CheckVxlanFdb},
      {"port isolation and learning", CheckPortIsolationAndLearning},
  };
  return *scenarios;
}

}  // namespace weave::netlink::testing
