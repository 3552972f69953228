#include "common/netlink/netlink_conformance.h"

#include <catch2/catch.hpp>

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

bool Hairpin(const ConformanceEnv& env, const std::string& port) {
  absl::StatusOr<bool> hairpin = env.hairpin(port);
  CHECK_OK(hairpin);
  return hairpin.value_or(false);
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

const std::vector<ConformanceScenario>& ConformanceScenarios() {
  static const auto* const scenarios = new std::vector<ConformanceScenario>{
      {"link lifecycle", CheckLinkLifecycle},
      {"bridge ports", CheckBridgePorts},
      {"veth across namespaces", CheckVethAcrossNamespaces},
      {"addresses and routes", CheckAddressesAndRoutes},
  };
  return *scenarios;
}

}  // namespace weave::netlink::testing
