// RunCommand and the small helpers of subprocess.h; Process lives in process.cc.

#include "test/harness/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "test/harness/deadline.h"

namespace weave::testing {
namespace {

using internal::UniqueFd;

// A SIGKILLed child normally goes within milliseconds; this only bounds a child stuck in the
// kernel (uninterruptible sleep).
constexpr absl::Duration kReapTimeout = absl::Seconds(10);

// How much of stderr a DeadlineExceeded message quotes.
constexpr size_t kStderrExcerpt = 512;

// One of the child's standard streams: the parent keeps one end, the child gets the other.
struct Channel {
  UniqueFd parent;
  UniqueFd child;
};

// The parent's read end is non-blocking so that one silent stream cannot stall the other.
absl::StatusOr<Channel> OutputChannel() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2 for child output");
  Channel channel{UniqueFd(fds[0]), UniqueFd(fds[1])};
  if (fcntl(channel.parent.get(), F_SETFL, O_NONBLOCK) != 0) {
    return absl::ErrnoToStatus(errno, "making child output non-blocking");
  }
  return channel;
}

// A socket pair rather than a pipe: writing to a child that has stopped reading is then EPIPE from
// send(MSG_NOSIGNAL) instead of a SIGPIPE that would kill the test.
absl::StatusOr<Channel> InputChannel() {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return absl::ErrnoToStatus(errno, "socketpair for child input");
  }
  return Channel{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Appends what can be read now to `sink`; closes `fd` at end of stream.
void ReadAvailable(UniqueFd& fd, std::string& sink) {
  char buffer[64 * 1024];
  while (fd.valid()) {
    const ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n > 0) {
      sink.append(buffer, n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    } else {
      fd.Reset();
    }
  }
}

// Writes what the child will take now; closes `fd` when all is written (the child then sees end
// of input) or when the child has closed its end.
void WriteAvailable(UniqueFd& fd, const std::string& data, size_t& written) {
  while (fd.valid() && written < data.size()) {
    const ssize_t n =
        send(fd.get(), data.data() + written, data.size() - written, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      written += n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    } else {
      fd.Reset();
    }
  }
  fd.Reset();
}

// Feeds stdin and collects stdout and stderr until the child exits (true) or the deadline passes
// (false). Output already in the pipes when the child exits is collected.
absl::StatusOr<bool> PumpUntilExit(const internal::Child& child, const std::string& input,
                                   Channel& in, Channel& out, Channel& err, CommandResult& result,
                                   const Deadline& deadline) {
  size_t written = 0;
  WriteAvailable(in.parent, input, written);
  while (!deadline.Expired()) {
    // poll(2) ignores entries whose fd is negative: streams already closed.
    pollfd fds[] = {{.fd = child.pidfd.get(), .events = POLLIN, .revents = 0},
                    {.fd = out.parent.get(), .events = POLLIN, .revents = 0},
                    {.fd = err.parent.get(), .events = POLLIN, .revents = 0},
                    {.fd = in.parent.get(), .events = POLLOUT, .revents = 0}};
    if (poll(fds, std::size(fds), deadline.PollTimeoutMs()) < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, absl::StrCat("poll for `", result.command, "`"));
    }
    if (fds[1].revents != 0) ReadAvailable(out.parent, result.stdout_data);
    if (fds[2].revents != 0) ReadAvailable(err.parent, result.stderr_data);
    if (fds[3].revents != 0) WriteAvailable(in.parent, input, written);
    if (fds[0].revents != 0) {
      ReadAvailable(out.parent, result.stdout_data);
      ReadAvailable(err.parent, result.stderr_data);
      return true;
    }
  }
  return false;
}

std::string Excerpt(const std::string& text) {
  if (text.size() <= kStderrExcerpt) return text;
  return absl::StrCat("...", text.substr(text.size() - kStderrExcerpt));
}

}  // namespace

ExitStatus ExitStatus::FromWaitStatus(int wait_status) {
  ExitStatus status;
  if (WIFEXITED(wait_status)) status.code = WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) status.signal = WTERMSIG(wait_status);
  return status;
}

std::string ExitStatus::ToString() const {
  if (signal != 0) return absl::StrCat("killed by signal ", signal, " (", strsignal(signal), ")");
  return absl::StrCat("exit code ", code);
}

absl::Status CommandResult::ToStatus() const {
  if (exit.success()) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat("`", command, "` failed with ", exit.ToString(), ": ", Excerpt(stderr_data)));
}

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                         absl::Duration timeout, const CommandOptions& options) {
  const std::vector<std::string> full_argv = internal::InNetns(options.netns, argv);
  CommandResult result;
  result.command = internal::CommandLine(full_argv);

  ASSIGN_OR_RETURN(Channel in, InputChannel());
  ASSIGN_OR_RETURN(Channel out, OutputChannel());
  ASSIGN_OR_RETURN(Channel err, OutputChannel());
  ASSIGN_OR_RETURN(
      const internal::Child child,
      internal::Spawn(full_argv, options.env,
                      {.in = in.child.get(), .out = out.child.get(), .err = err.child.get()}));
  // Only the child may hold these ends, or we would never see end of stream.
  in.child.Reset();
  out.child.Reset();
  err.child.Reset();

  const Deadline deadline(timeout);
  absl::StatusOr<bool> exited =
      PumpUntilExit(child, options.stdin_data, in, out, err, result, deadline);
  if (!exited.ok() || !*exited) {
    internal::SignalGroup(child, SIGKILL);
    (void)internal::AwaitExit(child, kReapTimeout);
    if (!exited.ok()) return exited.status();
    return absl::DeadlineExceededError(
        absl::StrCat("`", result.command, "` did not finish within ", absl::FormatDuration(timeout),
                     "; killed it. stderr: ", Excerpt(result.stderr_data)));
  }
  ASSIGN_OR_RETURN(const std::optional<int> wait_status, internal::AwaitExit(child, kReapTimeout));
  if (!wait_status.has_value()) {
    return absl::InternalError(
        absl::StrCat("`", result.command, "` exited but could not be reaped"));
  }
  result.exit = ExitStatus::FromWaitStatus(*wait_status);
  return result;
}

absl::Status RunChecked(const std::vector<std::string>& argv, absl::Duration timeout,
                        const CommandOptions& options) {
  ASSIGN_OR_RETURN(const CommandResult result, RunCommand(argv, timeout, options));
  return result.ToStatus();
}

bool ProcessAlive(pid_t pid) {
  // /proc/PID/stat is "PID (COMM) STATE ...", and COMM may itself contain ") ".
  std::ifstream stat_file(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat;
  if (!std::getline(stat_file, stat)) return false;
  const size_t end_of_comm = stat.rfind(')');
  if (end_of_comm == std::string::npos || end_of_comm + 2 >= stat.size()) return false;
  const char state = stat[end_of_comm + 2];
  return state != 'Z' && state != 'X';
}

}  // namespace weave::testing
