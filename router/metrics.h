// weaver's Prometheus metrics, computed from a status snapshot at scrape time. Names are the
// original's (weave_connections, weave_ips, ...); new ones share the weave_ prefix.
#pragma once

#include <vector>

#include "common/metrics/exposition.h"
#include "weave/router.pb.h"

namespace weave::router {

std::vector<metrics::Family> RouterMetrics(const v1::Status& status);

}  // namespace weave::router
