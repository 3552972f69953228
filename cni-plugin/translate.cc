#include "cni-plugin/translate.h"

#include <set>

#include "absl/strings/match.h"

namespace weave::cni {
namespace {

// The interface the container side's ips point at: the first with a sandbox, else the second
// (the router lists the host veth first), else none.
std::optional<int> ContainerInterfaceIndex(const std::vector<Interface>& interfaces) {
  for (size_t i = 0; i < interfaces.size(); ++i) {
    if (!interfaces[i].sandbox.empty()) return static_cast<int>(i);
  }
  if (interfaces.size() >= 2) return 1;
  return std::nullopt;
}

std::string DefaultRouteDestination(const std::string& address) {
  return absl::StrContains(address, ':') ? "::/0" : "0.0.0.0/0";
}

}  // namespace

v1::AttachContainerRequest AttachRequest(const NetConf& conf, const CniEnv& env,
                                         const CniArgs& args,
                                         const std::optional<Result>& delegated) {
  v1::AttachContainerRequest request;
  request.set_container_id(env.container_id);
  request.set_netns(env.netns);
  request.set_ifname(env.ifname);
  request.set_pod_namespace(args.pod_namespace);
  request.set_pod_name(args.pod_name);
  request.set_mtu(conf.mtu);
  if (conf.hairpin_mode.has_value()) request.set_hairpin(*conf.hairpin_mode);
  if (delegated.has_value()) {
    for (const IpConfig& ip : delegated->ips) {
      v1::IpConfig* out = request.add_ips();
      out->set_address(ip.address);
      out->set_gateway(ip.gateway);
    }
    for (const Route& route : delegated->routes) {
      v1::Route* out = request.add_routes();
      out->set_dst(route.dst);
      out->set_gw(route.gw);
    }
  }
  return request;
}

Result ResultFromAttach(const v1::AttachContainerResponse& response, const NetConf& conf,
                        const CniEnv& env, const std::optional<Result>& delegated) {
  Result result;
  for (int i = 0; i < response.interfaces_size(); ++i) {
    const v1::Interface& in = response.interfaces(i);
    result.interfaces.push_back(
        {.name = in.name(), .mac = in.mac(), .sandbox = in.sandbox(), .mtu = response.mtu()});
  }
  if (result.interfaces.size() >= 2 && result.interfaces[1].sandbox.empty()) {
    result.interfaces[1].sandbox = env.netns;
  }
  const std::optional<int> container = ContainerInterfaceIndex(result.interfaces);
  for (const v1::IpConfig& ip : response.ips()) {
    result.ips.push_back(
        {.address = ip.address(), .gateway = ip.gateway(), .interface = container});
  }
  for (const v1::Route& route : response.routes()) {
    result.routes.push_back({.dst = route.dst(), .gw = route.gw()});
  }
  if (delegated.has_value()) {
    if (result.ips.empty()) {
      for (IpConfig ip : delegated->ips) {
        ip.interface = container;
        result.ips.push_back(std::move(ip));
      }
    }
    if (result.routes.empty()) result.routes = delegated->routes;
  }
  result.dns = delegated.has_value() && !delegated->dns.empty() ? delegated->dns : conf.dns;
  return result;
}

std::vector<v1::IpConfig> ExpectedIps(const Result& prev_result, const std::string& ifname) {
  std::set<int> on_ifname;
  for (size_t i = 0; i < prev_result.interfaces.size(); ++i) {
    if (prev_result.interfaces[i].name == ifname && !prev_result.interfaces[i].sandbox.empty()) {
      on_ifname.insert(static_cast<int>(i));
    }
  }
  bool any_indexed = false;
  for (const IpConfig& ip : prev_result.ips) any_indexed = any_indexed || ip.interface.has_value();
  std::vector<v1::IpConfig> expected;
  for (const IpConfig& ip : prev_result.ips) {
    const bool wanted =
        any_indexed ? ip.interface.has_value() && on_ifname.count(*ip.interface) : true;
    if (!wanted) continue;
    v1::IpConfig out;
    out.set_address(ip.address);
    out.set_gateway(ip.gateway);
    expected.push_back(std::move(out));
  }
  return expected;
}

absl::StatusOr<Result> IpamResult(const v1::AllocateAddressResponse& response,
                                  const NetConf& conf) {
  if (response.ip().address().empty()) {
    return absl::InternalError("router: AllocateAddress answered without an address");
  }
  const std::string gateway =
      conf.ipam.gateway.empty() ? response.ip().gateway() : conf.ipam.gateway;
  Result result;
  result.ips.push_back({.address = response.ip().address(), .gateway = gateway});
  if (!conf.ipam.routes.empty()) {
    result.routes = conf.ipam.routes;
  } else if (!gateway.empty()) {
    result.routes.push_back(
        {.dst = DefaultRouteDestination(response.ip().address()), .gw = gateway});
  }
  result.dns = conf.dns;
  return result;
}

v1::GarbageCollectRequest GarbageCollectRequest(const std::vector<Attachment>& valid) {
  v1::GarbageCollectRequest request;
  for (const Attachment& attachment : valid) {
    v1::Attachment* out = request.add_valid_attachments();
    out->set_container_id(attachment.container_id);
    out->set_ifname(attachment.ifname);
  }
  return request;
}

}  // namespace weave::cni
