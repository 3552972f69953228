// Checks the weave container's environment by weaver's own rules (router/flags.cc and
// router/config.cc), so that the generator never writes a manifest whose router would refuse
// to start: a bad WEAVE_MTU is a 400 from the generator, not a crash loop on every node.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "charts/generator/params.h"

namespace weave::charts {

// `env` holds the literal values of the container's environment (entries filled from a field
// or a Secret are left out). Each variable weaver reads through a flag's environment fallback
// is given to weaver's flag parser and configuration check; other variables are weaver's
// business only if it reads them, so they pass. Reads no file and not this process's
// environment. Thread-safe. InvalidArgument with weaver's one-line message, e.g.
//   invalid WEAVE_MTU (--mtu) "abc": expected a whole number of bytes from 576 to 65535, ...
absl::Status CheckRouterEnvironment(const std::vector<EnvVar>& env);

}  // namespace weave::charts
