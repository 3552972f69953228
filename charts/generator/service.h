// The generator over HTTP: a self-hostable replacement for the hosted
// cloud.weave.works/k8s/net, so that the spec's install command works with its host changed:
//   kubectl apply -f "http://HOST:PORT/k8s/net?k8s-version=$(kubectl version | base64 | tr -d
//   '\n')"
#pragma once

#include "common/http/server.h"

namespace weave::charts {

inline constexpr char kManifestPath[] = "/k8s/net";

// GET /k8s/net?<query>: 200 with the manifest as YAML, or 400 with the one-line error
// (plain text). The query is read as sent, so env.NAME entries keep their order.
http::Route ManifestRoute();

}  // namespace weave::charts
