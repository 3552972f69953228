#pragma once

// What a test run leaves on the machine, and how a later run cleans up after one that died.
//
// A NetnsCluster names everything it creates after the pid of the test process: namespaces
// "wvt<pid>-u", "wvt<pid>-n1", ... and the work directory /tmp/wvt<pid>. Its destructor removes
// them, but a test killed by a signal (Catch2 reports the signal and dies without unwinding) leaves
// them behind; the pid in the name lets a sweep tell those leftovers from a run still in progress.

#include <sys/types.h>

#include <optional>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace weave::testing {

// "wvt<pid>": the prefix of the namespace names of the run with that pid.
std::string RunPrefix(pid_t pid);

// "/tmp/wvt<pid>": the work directory of the run with that pid.
std::string RunWorkDir(pid_t pid);

// The pid of the run that owns `name`, a namespace or directory name of the form "wvt<pid>" or
// "wvt<pid>-<anything>"; nullopt for any other name.
std::optional<pid_t> ParseRunPid(absl::string_view name);

struct SweepOptions {
  // Remove every run's leftovers, live ones too (for a manual clean-up after tests were stopped).
  bool all = false;
};

// Deletes the namespaces (killing the processes in them) and work directories of runs whose
// process is gone, or of all runs with options.all. Writes one line per removal or failure to
// `report`. Goes on past failures and returns the first one. Needs root.
absl::Status SweepStaleRuns(const SweepOptions& options, std::ostream& report);

}  // namespace weave::testing
