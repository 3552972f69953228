// Translations between CNI values (cni.h, result.h) and Router API messages. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cni-plugin/cni.h"
#include "cni-plugin/result.h"
#include "weave/router.pb.h"

namespace weave::cni {

// AttachContainer for ADD. `delegated`: the result of a delegated IPAM plugin, whose ips and
// routes the router applies instead of allocating.
v1::AttachContainerRequest AttachRequest(const NetConf& conf, const CniEnv& env,
                                         const CniArgs& args,
                                         const std::optional<Result>& delegated);

// Our part of the ADD result: the interfaces the router reports (host veth, then the container
// side, whose sandbox is CNI_NETNS if the router left it empty), its ips pointing at the container
// interface, and its routes. When the router reports no ips or routes, the delegated ones are
// used. DNS: the delegated plugin's if it gave any, else the configuration's.
Result ResultFromAttach(const v1::AttachContainerResponse& response, const NetConf& conf,
                        const CniEnv& env, const std::optional<Result>& delegated);

// The addresses CHECK expects on CNI_IFNAME: the prevResult ips that point at an interface of
// that name, or all its ips when none point anywhere (an IPAM-style result).
std::vector<v1::IpConfig> ExpectedIps(const Result& prev_result, const std::string& ifname);

// weave-ipam's ADD result: the allocated address with the configured gateway (else the router's),
// and the configured routes (else a default route via that gateway, if there is one). An answer
// without an address is an error.
absl::StatusOr<Result> IpamResult(const v1::AllocateAddressResponse& response, const NetConf& conf);

// GarbageCollect's request from the configuration's valid attachments.
v1::GarbageCollectRequest GarbageCollectRequest(const std::vector<Attachment>& valid);

}  // namespace weave::cni
