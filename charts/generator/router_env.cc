#include "charts/generator/router_env.h"

#include <algorithm>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "router/config.h"
#include "router/flags.h"

namespace weave::charts {
namespace {

// The one variable whose check reads a file (the mounted password): a generator reachable
// over HTTP must not report which paths exist on its own host.
constexpr char kPasswordFileEnv[] = "WEAVE_PASSWORD_FILE";

}  // namespace

absl::Status CheckRouterEnvironment(const std::vector<EnvVar>& env) {
  CLI::App app;
  router::RouterFlags flags;
  router::AddRouterFlags(app, &flags);
  // Each variable becomes its flag on a command line, which is how weaver treats the
  // environment (the flag's value as text). Empty means unset, as CLI11 reads the environment.
  std::vector<std::string> args;
  for (CLI::Option* option : app.get_options()) {
    const std::string env_name = option->get_envname();
    option->envname("");  // never this process's environment
    if (env_name.empty() || env_name == kPasswordFileEnv) continue;
    for (const EnvVar& var : env) {
      if (var.name == env_name && !var.value.empty()) {
        args.push_back(absl::StrCat(option->get_name(), "=", var.value));
      }
    }
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("weaver would refuse its environment: ", e.what()));
  }
  absl::StatusOr<router::RouterConfig> config = router::ResolveRouterConfig(flags, "node");
  return config.status();
}

}  // namespace weave::charts
