#include "cni-plugin/translate.h"

#include <catch2/catch.hpp>

#include "test/harness/status_assertions.h"

namespace weave::cni {
namespace {

CniEnv Env() {
  return {.container_id = "3f6940ab5ab4", .netns = "/var/run/netns/cni-1", .ifname = "eth0"};
}

v1::AttachContainerResponse Response() {
  v1::AttachContainerResponse response;
  v1::Interface* host = response.add_interfaces();
  host->set_name("vethwepl3f6940a");
  host->set_mac("6a:00:00:00:00:01");
  v1::Interface* container = response.add_interfaces();
  container->set_name("eth0");
  container->set_mac("6a:00:00:00:00:02");
  v1::IpConfig* ip = response.add_ips();
  ip->set_address("10.32.0.5/12");
  ip->set_gateway("10.32.0.1");
  v1::Route* route = response.add_routes();
  route->set_dst("0.0.0.0/0");
  route->set_gw("10.32.0.1");
  response.set_mtu(1376);
  return response;
}

Result Delegated() {
  Result result;
  result.ips = {{"10.1.0.2/16", "10.1.0.1", std::nullopt}};
  result.routes = {{"0.0.0.0/0", "10.1.0.1"}};
  return result;
}

TEST_CASE("AttachRequest carries the environment, CNI_ARGS and configuration", "[translate]") {
  NetConf conf;
  conf.mtu = 1400;
  const v1::AttachContainerRequest request =
      AttachRequest(conf, Env(), {"kube-system", "coredns-1"}, std::nullopt);
  CHECK(request.container_id() == "3f6940ab5ab4");
  CHECK(request.netns() == "/var/run/netns/cni-1");
  CHECK(request.ifname() == "eth0");
  CHECK(request.pod_namespace() == "kube-system");
  CHECK(request.pod_name() == "coredns-1");
  CHECK(request.mtu() == 1400);
  CHECK_FALSE(request.has_hairpin());  // unset: the router's HAIRPIN_MODE decides
  CHECK(request.ips_size() == 0);      // the router allocates

  conf.hairpin_mode = false;
  const v1::AttachContainerRequest with_delegate = AttachRequest(conf, Env(), {}, Delegated());
  REQUIRE(with_delegate.has_hairpin());
  CHECK_FALSE(with_delegate.hairpin());
  REQUIRE(with_delegate.ips_size() == 1);
  CHECK(with_delegate.ips(0).address() == "10.1.0.2/16");
  CHECK(with_delegate.ips(0).gateway() == "10.1.0.1");
  REQUIRE(with_delegate.routes_size() == 1);
  CHECK(with_delegate.routes(0).gw() == "10.1.0.1");
}

TEST_CASE("ResultFromAttach points the ips at the container interface", "[translate]") {
  NetConf conf;
  conf.dns = {{"nameservers", {"10.96.0.10"}}};
  const Result result = ResultFromAttach(Response(), conf, Env(), std::nullopt);
  REQUIRE(result.interfaces.size() == 2);
  CHECK(result.interfaces[0] == Interface{"vethwepl3f6940a", "6a:00:00:00:00:01", "", 1376});
  // The router left the sandbox empty: CNI_NETNS fills it.
  CHECK(result.interfaces[1] ==
        Interface{"eth0", "6a:00:00:00:00:02", "/var/run/netns/cni-1", 1376});
  CHECK(result.ips == std::vector<IpConfig>{{"10.32.0.5/12", "10.32.0.1", 1}});
  CHECK(result.routes == std::vector<Route>{{"0.0.0.0/0", "10.32.0.1"}});
  CHECK(result.dns == conf.dns);
}

TEST_CASE("ResultFromAttach falls back to the delegated ips, routes and dns", "[translate]") {
  v1::AttachContainerResponse response = Response();
  response.clear_ips();
  response.clear_routes();
  Result delegated = Delegated();
  delegated.dns = {{"domain", "example"}};
  const Result result = ResultFromAttach(response, NetConf(), Env(), delegated);
  CHECK(result.ips == std::vector<IpConfig>{{"10.1.0.2/16", "10.1.0.1", 1}});
  CHECK(result.routes == delegated.routes);
  CHECK(result.dns == delegated.dns);
}

TEST_CASE("ExpectedIps takes the prevResult addresses of CNI_IFNAME", "[translate]") {
  Result prev;
  prev.interfaces = {{"vethwepl1", "", "", 0}, {"eth0", "", "/ns", 0}, {"net1", "", "/ns", 0}};
  prev.ips = {{"10.32.0.5/12", "10.32.0.1", 1}, {"192.168.0.5/24", "", 2}};
  const std::vector<v1::IpConfig> expected = ExpectedIps(prev, "eth0");
  REQUIRE(expected.size() == 1);
  CHECK(expected[0].address() == "10.32.0.5/12");
  CHECK(expected[0].gateway() == "10.32.0.1");
  CHECK(ExpectedIps(prev, "net1")[0].address() == "192.168.0.5/24");

  Result ipam_style;
  ipam_style.ips = {{"10.32.0.5/12", "", std::nullopt}};
  CHECK(ExpectedIps(ipam_style, "eth0").size() == 1);
}

TEST_CASE("IpamResult: the allocation, a default route via the gateway, or the configured ones",
          "[translate]") {
  v1::AllocateAddressResponse response;
  response.mutable_ip()->set_address("10.32.0.9/12");
  response.mutable_ip()->set_gateway("10.32.0.1");
  NetConf conf;
  ASSIGN_OR_REQUIRE(const Result plain, IpamResult(response, conf));
  CHECK(plain.interfaces.empty());
  CHECK(plain.ips == std::vector<IpConfig>{{"10.32.0.9/12", "10.32.0.1", std::nullopt}});
  CHECK(plain.routes == std::vector<Route>{{"0.0.0.0/0", "10.32.0.1"}});

  conf.ipam.gateway = "10.32.0.254";
  conf.ipam.routes = {{"10.0.0.0/8", ""}};
  ASSIGN_OR_REQUIRE(const Result configured, IpamResult(response, conf));
  CHECK(configured.ips[0].gateway == "10.32.0.254");
  CHECK(configured.routes == conf.ipam.routes);

  v1::AllocateAddressResponse no_gateway;
  no_gateway.mutable_ip()->set_address("10.32.0.9/12");
  ASSIGN_OR_REQUIRE(const Result bare, IpamResult(no_gateway, NetConf()));
  CHECK(bare.routes.empty());

  CHECK(IpamResult(v1::AllocateAddressResponse(), NetConf()).status().code() ==
        absl::StatusCode::kInternal);
}

TEST_CASE("GarbageCollectRequest lists the valid attachments", "[translate]") {
  const v1::GarbageCollectRequest request = GarbageCollectRequest({{"a", "eth0"}, {"b", ""}});
  REQUIRE(request.valid_attachments_size() == 2);
  CHECK(request.valid_attachments(0).container_id() == "a");
  CHECK(request.valid_attachments(0).ifname() == "eth0");
  CHECK(request.valid_attachments(1).container_id() == "b");
}

}  // namespace
}  // namespace weave::cni
