#pragma once

#include <deque>
#include <string>

namespace weave::testing {

// The whole contents of a file, or "" if it cannot be read (not there yet, for instance): tests
// poll logs and state files with it inside WaitFor.
std::string ReadFileOrEmpty(const std::string& path);

// The last `max_lines` lines of a file (none if it cannot be read); only its final megabyte is
// read, as daemons can log a lot.
std::deque<std::string> LastLines(const std::string& path, int max_lines);

}  // namespace weave::testing
