#include "cni-plugin/ipam_delegate.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cni-plugin/errors.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace weave::cni {
namespace {

// An IPAM result is a few hundred bytes; more than this is not one.
constexpr size_t kMaxOutput = 1 << 20;

bool IsExecutableFile(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && access(path.c_str(), X_OK) == 0;
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// The spawned plugin's stdio as seen from our side.
struct ChildIo {
  Fd stdin_writer;  // a socket: send(MSG_NOSIGNAL) turns a plugin that stops reading into EPIPE
  Fd stdout_reader;
};

int RemainingMs(absl::Time deadline) {
  const absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  return static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
}

// Feeds stdin and collects stdout until the plugin closes stdout. False when the deadline passes.
absl::StatusOr<bool> Pump(ChildIo& io, absl::string_view input, std::string& output,
                          absl::Time deadline) {
  size_t written = 0;
  if (input.empty()) io.stdin_writer.Close();
  while (io.stdout_reader.valid()) {
    const int wait_ms = RemainingMs(deadline);
    if (wait_ms == 0) return false;
    pollfd fds[] = {{.fd = io.stdout_reader.get(), .events = POLLIN, .revents = 0},
                    {.fd = io.stdin_writer.get(), .events = POLLOUT, .revents = 0}};
    if (poll(fds, 2, wait_ms) < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, "poll on the ipam plugin's stdio");
    }
    if (fds[1].revents != 0) {
      const ssize_t n = send(io.stdin_writer.get(), input.data() + written, input.size() - written,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) written += n;
      // EPIPE: the plugin does not want (the rest of) its input; its exit status will tell.
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) {
        io.stdin_writer.Close();
      }
    }
    if (fds[0].revents != 0) {
      char buffer[16384];
      const ssize_t n = read(io.stdout_reader.get(), buffer, sizeof buffer);
      if (n > 0) {
        output.append(buffer, n);
        if (output.size() > kMaxOutput) {
          return absl::ResourceExhaustedError("the ipam plugin wrote more than 1 MiB to stdout");
        }
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        io.stdout_reader.Close();
      }
    }
  }
  return true;
}

// Waits for `pid` until `deadline`, then kills it. The wait status, or nullopt if it was killed.
std::optional<int> Reap(pid_t pid, absl::Time deadline) {
  int status = 0;
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return std::nullopt;
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(1));
  }
  kill(pid, SIGKILL);
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return std::nullopt;
}

// The plugin's CNI error, carried over with its own code.
absl::Status PluginError(absl::string_view type, int wait_status, const std::string& output) {
  const nlohmann::json error = nlohmann::json::parse(output, nullptr, /*allow_exceptions=*/false);
  if (error.is_object() && error.contains("msg") && error["msg"].is_string()) {
    absl::Status status = absl::InternalError(
        absl::StrCat("ipam plugin ", type, ": ", error["msg"].get_ref<const std::string&>()));
    if (error.contains("code") && error["code"].is_number_integer()) {
      status = WithCniCode(std::move(status), error["code"].get<int>());
    }
    if (error.contains("details") && error["details"].is_string()) {
      status = WithCniDetails(std::move(status), error["details"].get_ref<const std::string&>());
    }
    return status;
  }
  const std::string how = WIFEXITED(wait_status)
                              ? absl::StrCat("exit code ", WEXITSTATUS(wait_status))
                              : absl::StrCat("signal ", WTERMSIG(wait_status));
  return absl::InternalError(
      absl::StrCat("ipam plugin ", type, " failed with ", how, " and no CNI error on stdout"));
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

absl::StatusOr<std::string> FindPlugin(absl::string_view type, absl::string_view cni_path) {
  if (type.empty() || absl::StrContains(type, '/') || type == "." || type == "..") {
    return CniStatus(kErrInvalidConfig,
                     absl::StrCat("ipam.type \"", type, "\" is not a plugin name"));
  }
  if (cni_path.empty()) {
    return CniStatus(kErrInvalidEnvironment,
                     absl::StrCat("CNI_PATH is not set; it is needed to find ipam plugin ", type));
  }
  for (absl::string_view dir : absl::StrSplit(cni_path, ':', absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(dir, "/", type);
    if (IsExecutableFile(candidate)) return candidate;
  }
  return CniStatus(kErrInvalidConfig,
                   absl::StrCat("ipam plugin ", type, " not found in CNI_PATH ", cni_path));
}

ExecIpamDelegate::ExecIpamDelegate(std::vector<std::string> environment, absl::Duration timeout)
    : environment_(std::move(environment)), timeout_(timeout) {
  for (const std::string& entry : environment_) {
    if (absl::StartsWith(entry, "CNI_PATH=")) cni_path_ = entry.substr(9);
  }
}

absl::StatusOr<std::string> ExecIpamDelegate::Run(absl::string_view type, Command command,
                                                  absl::string_view stdin_data) {
  ASSIGN_OR_RETURN(std::string path, FindPlugin(type, cni_path_));
  std::vector<std::string> env;
  for (const std::string& entry : environment_) {
    if (!absl::StartsWith(entry, "CNI_COMMAND=")) env.push_back(entry);
  }
  env.push_back(absl::StrCat("CNI_COMMAND=", CommandName(command)));
  std::vector<std::string> argv = {path};

  int in[2];
  int out[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) {
    return absl::ErrnoToStatus(errno, "socketpair for the ipam plugin's stdin");
  }
  if (pipe2(out, O_CLOEXEC) != 0) {
    const int error = errno;
    close(in[0]);
    close(in[1]);
    return absl::ErrnoToStatus(error, "pipe for the ipam plugin's stdout");
  }
  ChildIo io{.stdin_writer = Fd(in[0]), .stdout_reader = Fd(out[0])};
  Fd child_stdin(in[1]);
  Fd child_stdout(out[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  absl::Cleanup destroy_actions = [&actions] { posix_spawn_file_actions_destroy(&actions); };
  posix_spawn_file_actions_adddup2(&actions, child_stdin.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, child_stdout.get(), STDOUT_FILENO);

  std::vector<char*> argv_pointers = Pointers(argv);
  std::vector<char*> env_pointers = Pointers(env);
  pid_t pid = -1;
  const int spawn_error =
      posix_spawn(&pid, path.c_str(), &actions, nullptr, argv_pointers.data(), env_pointers.data());
  if (spawn_error != 0) {
    return absl::ErrnoToStatus(spawn_error, absl::StrCat("running ipam plugin ", path));
  }
  child_stdin.Close();
  child_stdout.Close();

  const absl::Time deadline = absl::Now() + timeout_;
  std::string output;
  absl::StatusOr<bool> finished = Pump(io, stdin_data, output, deadline);
  const std::optional<int> wait_status =
      Reap(pid, finished.ok() && *finished ? deadline : absl::Now());
  if (!finished.ok()) return finished.status();
  if (!*finished || !wait_status.has_value()) {
    return absl::DeadlineExceededError(absl::StrCat("ipam plugin ", type, " did not finish ",
                                                    CommandName(command), " within ",
                                                    absl::FormatDuration(timeout_)));
  }
  if (!WIFEXITED(*wait_status) || WEXITSTATUS(*wait_status) != 0) {
    return PluginError(type, *wait_status, output);
  }
  return output;
}

}  // namespace weave::cni
