// The router's read-only HTTP endpoints. The local status address (127.0.0.1:6784) serves
// /status (503 until ready, the manifest's readiness probe), /status/{peers,connections,
// targets,ipam}, /report (JSON) and /metrics; the metrics address serves /metrics only.
#pragma once

#include <functional>
#include <vector>

#include "common/http/server.h"
#include "weave/router.pb.h"

namespace weave::router {

using StatusSource = std::function<v1::Status()>;

std::vector<http::Route> StatusRoutes(StatusSource source);
std::vector<http::Route> MetricsRoutes(StatusSource source);

}  // namespace weave::router
