#pragma once

// Network namespaces as `ip netns` manages them (bind mounts under /run/netns). Needs root.
// All functions are thread-compatible; they shell out to iproute2 through RunCommand.

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace weave::testing {

// Names of the namespaces under /run/netns; empty if there are none.
absl::StatusOr<std::vector<std::string>> ListNamespaces();

bool NamespaceExists(const std::string& name);

// `ip netns add`. A name that is taken is an error carrying ip's message (nothing is changed).
absl::Status AddNamespace(const std::string& name);

// The processes whose network namespace is `name` (`ip netns pids`).
absl::StatusOr<std::vector<pid_t>> NamespacePids(const std::string& name);

// Kills (SIGKILL) every process inside the namespace, waits until none is left, then deletes it.
// The processes matter: a namespace lives on, interfaces and addresses included, for as long as a
// process is inside it. A namespace that does not exist is fine, so this is idempotent.
absl::Status DeleteNamespace(const std::string& name);

}  // namespace weave::testing
