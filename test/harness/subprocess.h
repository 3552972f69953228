#pragma once

// Running programs from tests: RunCommand for a command whose output the test reads, Process for
// a daemon that runs in the background while the test talks to it.
//
// Both fork and exec argv directly (no shell), optionally inside a network namespace through
// `ip netns exec NS`. Every child leads its own process group and gets SIGKILL when the thread
// that started it exits (PR_SET_PDEATHSIG), so a crashed test leaves no daemons behind; start
// children from a thread that lives as long as they should. The death signal reaches the child
// only, not processes it forks: after a crash those are left to netns-sweep, which kills whatever
// runs in a dead run's namespaces.
//
// Once a child has exited, whatever is left of its process group is killed too, so a command that
// backgrounds work does not leak it. A daemon must therefore be a Process, not the detached
// offspring of a RunCommand (`setsid -f` races with that kill).

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "test/harness/spawn.h"

namespace weave::testing {

// How a child ended.
struct ExitStatus {
  int code = 0;    // The exit code, when it exited.
  int signal = 0;  // The signal that killed it, or 0 when it exited.

  static ExitStatus FromWaitStatus(int wait_status);
  bool success() const { return signal == 0 && code == 0; }
  std::string ToString() const;  // "exit code 3", "killed by signal 9 (Killed)".
};

struct CommandOptions {
  Environment env;                   // Added to the test's environment.
  std::string stdin_data;            // Written to the child's stdin, which is then closed.
  std::optional<std::string> netns;  // Run inside this network namespace.
};

struct CommandResult {
  std::string command;  // The command line that ran, for messages.
  ExitStatus exit;
  std::string stdout_data;
  std::string stderr_data;

  // OK if the command exited 0, otherwise an Internal error naming the command, how it ended and
  // its stderr; lets setup code treat "ran but failed" like any other error.
  absl::Status ToStatus() const;
};

// Runs argv to completion and captures stdout and stderr separately. A command that exits non-zero
// is still a result (see CommandResult::ToStatus). Errors: NotFound if argv[0] is not on PATH;
// DeadlineExceeded naming the command if it has not exited within `timeout`, after killing its
// process group with SIGKILL; errno-based errors if the OS refuses to start it. Output written by
// grandchildren after the child itself has exited is not waited for. Thread-compatible.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Duration timeout,
                                         const CommandOptions& options = {});

// RunCommand for a command whose output does not matter: OK only if it ran and exited 0, else the
// error of RunCommand or of CommandResult::ToStatus.
absl::Status RunChecked(const std::vector<std::string>& argv, absl::Duration timeout,
                        const CommandOptions& options = {});

struct ProcessOptions {
  Environment env;                   // Added to the test's environment.
  std::string log_path;              // Required: stdout and stderr are appended here.
  std::optional<std::string> netns;  // Run inside this network namespace.
};

// A program running in the background, owned by this object: the destructor kills its process
// group and reaps it if it is still running. Stdin is /dev/null; stdout and stderr are appended to
// the log file, after a header line naming the command. Not thread-safe: one owner drives it.
class Process {
 public:
  static absl::StatusOr<std::unique_ptr<Process>> Start(const std::vector<std::string>& argv,
                                                        const ProcessOptions& options);

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return child_.pid; }
  const std::string& command() const { return command_; }
  const std::string& log_path() const { return log_path_; }

  // False once the process has exited (it is then reaped and its exit status kept).
  bool Running();

  // Sends `signal` to the process itself (not its group); an exited process is FailedPrecondition.
  absl::Status Signal(int signal);

  // Waits up to `timeout` for the process to exit on its own. DeadlineExceeded if it is still
  // running then. Returns the same status again once it has exited.
  absl::StatusOr<ExitStatus> Wait(absl::Duration timeout);

  // Sends SIGTERM to the process group, waits up to `grace`, then sends SIGKILL. Returns how it
  // ended; an already exited process just returns its status. Idempotent.
  absl::StatusOr<ExitStatus> Stop(absl::Duration grace);

 private:
  Process(std::string command, std::string log_path, internal::Child child);

  // Reaps the process if it exits within `timeout`, remembering its status in exit_status_.
  absl::Status Reap(absl::Duration timeout);

  std::string command_;
  std::string log_path_;
  internal::Child child_;
  std::optional<ExitStatus> exit_status_;
};

// Whether `pid` names a live process; a zombie (exited, not yet reaped) counts as gone.
bool ProcessAlive(pid_t pid);

}  // namespace weave::testing
