// The install manifest as values: ServiceAccount, ClusterRole and its binding, the Role and
// its binding for the weave-net ConfigMap, and the DaemonSet, in one `kind: List`.
//
// This is the one source of truth for what Weave Net installs. charts/weave-daemonset-k8s.yaml
// is RenderManifest of the default parameters, checked in; the Helm chart (charts/weave-net) is
// written by hand and held to these objects by the tests in charts/tests (every chart value has
// a query parameter and the two must render the same objects).
//
// The weave container's environment: first the variables given as env.NAME=VALUE, in the order
// given (where a reader of the YAML finds them, as in the spec's env.WEAVE_MTU=1337 example),
// then the manifest's own variables and the spec's defaults that were not overridden:
// HOSTNAME (the node's name), INIT_CONTAINER, HOST_ROOT, CONN_LIMIT=30, EXPECT_NPC=1,
// HAIRPIN_MODE=true, IPALLOC_RANGE=10.32.0.0/12, NO_MASQ_LOCAL=1,
// WEAVE_METRICS_ADDR=0.0.0.0:6782, WEAVE_MTU=1376, then KUBE_PEERS, WEAVE_TRUSTED_SUBNETS and
// WEAVE_PASSWORD when their parameters are given. The init container gets the final
// HAIRPIN_MODE (the conflist it installs) and EXPECT_NPC (whether to load br_netfilter).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "charts/generator/params.h"
#include "nlohmann/json.hpp"

namespace weave::charts {

// The List. InvalidArgument (one line) when weaver would refuse the resulting environment
// (router_env.h).
absl::StatusOr<nlohmann::ordered_json> BuildManifest(const ManifestParams& params);

// BuildManifest as YAML text (yaml.h).
absl::StatusOr<std::string> RenderManifest(const ManifestParams& params);

// ParseQuery then RenderManifest: what GET /k8s/net?<query> answers.
absl::StatusOr<std::string> GenerateManifest(absl::string_view query);

}  // namespace weave::charts
