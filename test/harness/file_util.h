#pragma once

#include <string>

namespace weave::testing {

// The whole contents of a file, or "" if it cannot be read (not there yet, for instance): tests
// poll logs and state files with it inside WaitFor.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace weave::testing
