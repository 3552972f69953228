#include "test/harness/spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "test/harness/deadline.h"

extern char** environ;

namespace weave::testing::internal {
namespace {

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// What the child writes to the report pipe when a step before a successful exec fails.
enum ChildStep : int { kSetpgid, kPdeathsig, kDup2, kExecve };
constexpr const char* kChildStepNames[] = {"setpgid", "prctl(PR_SET_PDEATHSIG)", "dup2", "execve"};
struct ChildFailure {
  ChildStep step;
  int error;
};

// The child's variables that differ from the test's: `env` with later pairs winning.
using Overrides = std::map<std::string, std::string>;

Overrides ToOverrides(const Environment& env) {
  Overrides overrides;
  for (const auto& [name, value] : env) overrides[name] = value;
  return overrides;
}

// "NAME=value" strings: the test's environment with `overrides` laid over it.
std::vector<std::string> MergedEnvironment(const Overrides& overrides) {
  std::vector<std::string> merged;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const absl::string_view name_value(*entry);
    if (!overrides.contains(std::string(name_value.substr(0, name_value.find('='))))) {
      merged.emplace_back(name_value);
    }
  }
  for (const auto& [name, value] : overrides) merged.push_back(absl::StrCat(name, "=", value));
  return merged;
}

// Resolved in the parent because a PATH search between fork and exec is not async-signal-safe,
// and because "not found" is clearer as a Status than as exit code 127.
absl::StatusOr<std::string> FindExecutable(const std::string& name, const Overrides& overrides) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  if (auto it = overrides.find("PATH"); it != overrides.end()) path = it->second.c_str();
  if (path == nullptr) path = kDefaultPath;
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(dir, "/", name);
    struct stat st;
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return absl::NotFoundError(absl::StrCat("`", name, "` not found on PATH ", path));
}

// Pointers into `strings` (which must outlive them), ending with nullptr, as exec wants.
std::vector<char*> NullTerminated(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// In the child: tells the parent which step failed (with errno) and exits.
[[noreturn]] void ReportFailure(int report_fd, ChildStep step) {
  const ChildFailure failure{step, errno};
  (void)!write(report_fd, &failure, sizeof failure);
  _exit(127);
}

// Runs between fork and exec, so only async-signal-safe calls: the test may have threads.
[[noreturn]] void ExecChild(const char* path, char* const argv[], char* const envp[],
                            ChildStdio stdio, pid_t parent, int report_fd) {
  if (setpgid(0, 0) != 0) ReportFailure(report_fd, kSetpgid);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ReportFailure(report_fd, kPdeathsig);
  if (getppid() != parent) _exit(127);  // The test died before the death signal was armed.

  // Dispositions the test set to "ignore" and its blocked mask would survive exec.
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &default_action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  const int sources[] = {stdio.in, stdio.out, stdio.err};
  for (int target = 0; target < 3; ++target) {
    // dup2 onto itself would leave close-on-exec set.
    const int rc =
        sources[target] == target ? fcntl(target, F_SETFD, 0) : dup2(sources[target], target);
    if (rc < 0) ReportFailure(report_fd, kDup2);
  }
  // Descriptors the test opened without O_CLOEXEC must not leak into long-running daemons.
  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  execve(path, argv, envp);
  ReportFailure(report_fd, kExecve);
}

auto RetryOnEintr(const auto& call) {
  decltype(call()) rc;
  do {
    rc = call();
  } while (rc < 0 && errno == EINTR);
  return rc;
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

void UniqueFd::Reset() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

absl::StatusOr<Child> Spawn(const std::vector<std::string>& argv, const Environment& env,
                            ChildStdio stdio) {
  if (argv.empty()) return absl::InvalidArgumentError("cannot run an empty command");
  const Overrides overrides = ToOverrides(env);
  absl::StatusOr<std::string> path = FindExecutable(argv[0], overrides);
  if (!path.ok()) return path.status();
  std::vector<std::string> args = argv;
  std::vector<std::string> env_strings = MergedEnvironment(overrides);
  const std::vector<char*> argp = NullTerminated(args);
  const std::vector<char*> envp = NullTerminated(env_strings);

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("pipe2 for `", CommandLine(argv), "`"));
  }
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);

  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("fork for `", CommandLine(argv), "`"));
  }
  if (pid == 0) ExecChild(path->c_str(), argp.data(), envp.data(), stdio, parent, report[1]);

  // The report pipe closes on a successful exec; anything read from it is a failure before that.
  report_write.Reset();
  ChildFailure failure;
  const ssize_t n = RetryOnEintr([&] { return read(report_read.get(), &failure, sizeof failure); });
  if (n == sizeof failure) {
    RetryOnEintr([&] { return waitpid(pid, nullptr, 0); });
    return absl::ErrnoToStatus(failure.error, absl::StrCat(kChildStepNames[failure.step], " for `",
                                                           CommandLine(argv), "`"));
  }

  Child child;
  child.pid = pid;
  // Through syscall(2): glibc 2.36's <sys/pidfd.h> lacks extern "C", so C++ cannot link it.
  child.pidfd = UniqueFd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!child.pidfd.valid()) {
    const int error = errno;
    kill(-pid, SIGKILL);
    RetryOnEintr([&] { return waitpid(pid, nullptr, 0); });
    return absl::ErrnoToStatus(error, absl::StrCat("pidfd_open for `", CommandLine(argv), "`"));
  }
  return child;
}

absl::StatusOr<std::optional<int>> AwaitExit(const Child& child, absl::Duration timeout) {
  const Deadline deadline(timeout);
  pollfd exited = {.fd = child.pidfd.get(), .events = POLLIN, .revents = 0};
  const int ready = RetryOnEintr([&] { return poll(&exited, 1, deadline.PollTimeoutMs()); });
  if (ready < 0) return absl::ErrnoToStatus(errno, absl::StrCat("poll on pidfd of ", child.pid));
  if (ready == 0) return std::nullopt;

  // Until it is reaped the leader is a zombie, so the group id cannot have been reused yet.
  kill(-child.pid, SIGKILL);
  int status = 0;
  if (RetryOnEintr([&] { return waitpid(child.pid, &status, 0); }) < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("waitpid ", child.pid));
  }
  return status;
}

void SignalGroup(const Child& child, int signal) { kill(-child.pid, signal); }

std::vector<std::string> InNetns(const std::optional<std::string>& netns,
                                 std::vector<std::string> argv) {
  if (!netns.has_value()) return argv;
  std::vector<std::string> wrapped = {"ip", "netns", "exec", *netns};
  wrapped.insert(wrapped.end(), std::make_move_iterator(argv.begin()),
                 std::make_move_iterator(argv.end()));
  return wrapped;
}

std::string CommandLine(const std::vector<std::string>& argv) { return absl::StrJoin(argv, " "); }

}  // namespace weave::testing::internal
