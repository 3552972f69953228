// Process, the background half of subprocess.h.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "test/harness/subprocess.h"

namespace weave::testing {
namespace {

// Bounds the wait after SIGKILL, which only a child stuck in the kernel outlasts.
constexpr absl::Duration kKillTimeout = absl::Seconds(10);

absl::Status AppendLine(int fd, const std::string& line) {
  if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    return absl::ErrnoToStatus(errno, "writing log header");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Process>> Process::Start(const std::vector<std::string>& argv,
                                                        const ProcessOptions& options) {
  if (options.log_path.empty()) return absl::InvalidArgumentError("Process needs a log path");
  const std::vector<std::string> full_argv = internal::InNetns(options.netns, argv);
  const std::string command = internal::CommandLine(full_argv);

  internal::UniqueFd log(
      open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!log.valid()) {
    return absl::ErrnoToStatus(errno, absl::StrCat("opening log ", options.log_path));
  }
  internal::UniqueFd null_input(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_input.valid()) return absl::ErrnoToStatus(errno, "opening /dev/null");

  // A restarted daemon appends to the same log; the header shows where each run begins.
  RETURN_IF_ERROR(AppendLine(log.get(), absl::StrCat("==== starting: ", command, "\n")));
  ASSIGN_OR_RETURN(internal::Child child,
                   internal::Spawn(full_argv, options.env,
                                   {.in = null_input.get(), .out = log.get(), .err = log.get()}));
  return std::unique_ptr<Process>(new Process(command, options.log_path, std::move(child)));
}

Process::Process(std::string command, std::string log_path, internal::Child child)
    : command_(std::move(command)), log_path_(std::move(log_path)), child_(std::move(child)) {}

Process::~Process() {
  if (!Running()) return;
  internal::SignalGroup(child_, SIGKILL);
  (void)Reap(kKillTimeout);
}

absl::Status Process::Reap(absl::Duration timeout) {
  if (exit_status_.has_value()) return absl::OkStatus();
  ASSIGN_OR_RETURN(const std::optional<int> wait_status, internal::AwaitExit(child_, timeout));
  if (!wait_status.has_value()) {
    return absl::DeadlineExceededError(absl::StrCat(
        "`", command_, "` (pid ", pid(), ") still running after ", absl::FormatDuration(timeout)));
  }
  exit_status_ = ExitStatus::FromWaitStatus(*wait_status);
  return absl::OkStatus();
}

bool Process::Running() { return !Reap(absl::ZeroDuration()).ok(); }

absl::Status Process::Signal(int signal) {
  if (!Running()) {
    return absl::FailedPreconditionError(
        absl::StrCat("`", command_, "` has already ended (", exit_status_->ToString(), ")"));
  }
  if (kill(pid(), signal) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("signalling `", command_, "`"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ExitStatus> Process::Wait(absl::Duration timeout) {
  RETURN_IF_ERROR(Reap(timeout));
  return *exit_status_;
}

absl::StatusOr<ExitStatus> Process::Stop(absl::Duration grace) {
  if (!Running()) return *exit_status_;
  internal::SignalGroup(child_, SIGTERM);
  if (Reap(grace).ok()) return *exit_status_;
  internal::SignalGroup(child_, SIGKILL);
  RETURN_IF_ERROR(Reap(kKillTimeout));
  return *exit_status_;
}

}  // namespace weave::testing
