#pragma once

#include <string>

#include "absl/status/status.h"

namespace weave::testing {

// Writes the files weaver reads under its --host-root to derive its peer name:
// etc/machine-id (32 random lower-case hex digits) and sys/class/dmi/id/product_uuid (a random
// version-4 UUID), newline-terminated like the real files. Every call makes a fresh identity, so
// each node of a cluster gets its own peer name. Creates the directories; overwrites the files.
absl::Status WriteFakeHostRoot(const std::string& root);

}  // namespace weave::testing
