#pragma once

// The fork/exec seam under RunCommand and Process (subprocess.h). Tests use those; this header is
// separate only so that each translation unit stays small.

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace weave::testing {

// Variables added to (or replacing) the test process's own environment for a child, as
// {name, value} pairs. A later pair for the same name wins, so appending one Environment to
// another lets the second override the first.
using Environment = std::vector<std::pair<std::string, std::string>>;

namespace internal {

// An owned file descriptor, closed on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset();

 private:
  int fd_ = -1;
};

// The descriptors a child gets as its stdin, stdout and stderr. Not owned: the caller closes its
// copies after Spawn returns.
struct ChildStdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

// A started child: the leader of its own process group (pgid == pid), which gets SIGKILL if the
// thread that spawned it exits (PR_SET_PDEATHSIG), so nothing outlives a crashed test.
struct Child {
  pid_t pid = -1;
  UniqueFd pidfd;  // Becomes readable when the child exits (pidfd_open(2)).
};

// Forks and execs argv[0] (looked up on the PATH of the child's environment) with the test's
// environment plus `env`. Returns once the exec has succeeded; a missing program is NotFound and
// a failed exec is an error naming the command, with the child already reaped.
absl::StatusOr<Child> Spawn(const std::vector<std::string>& argv, const Environment& env,
                            ChildStdio stdio);

// Waits up to `timeout` for the child to exit. Once it has, kills whatever is left of its process
// group (children it started and did not wait for) and reaps it, returning the waitpid(2) status;
// nullopt if it is still running. Call at most once with a result.
absl::StatusOr<std::optional<int>> AwaitExit(const Child& child, absl::Duration timeout);

// Sends `signal` to the child's whole process group. A group that is already gone is fine.
void SignalGroup(const Child& child, int signal);

// `argv` as it would run inside network namespace `netns` (`ip netns exec`), or unchanged.
std::vector<std::string> InNetns(const std::optional<std::string>& netns,
                                 std::vector<std::string> argv);

// argv joined with spaces, for messages and logs.
std::string CommandLine(const std::vector<std::string>& argv);

}  // namespace internal
}  // namespace weave::testing
