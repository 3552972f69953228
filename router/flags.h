// Registers weaver's flags, each with its environment variable, on a CLI11 app.
#pragma once

#include "CLI/App.hpp"
#include "router/config.h"

namespace weave::router {

// `flags` must outlive the parse. Precedence: command line, then environment, then default.
void AddRouterFlags(CLI::App& app, RouterFlags* flags);

}  // namespace weave::router
