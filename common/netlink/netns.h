// Network namespaces by path: /var/run/netns/NAME (an `ip netns` bind mount), /proc/PID/ns/net.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace weave::netlink {

// An open file descriptor (O_RDONLY | O_CLOEXEC) of a network namespace, closed on destruction.
// Holding it keeps the namespace alive. Movable, not copyable.
class NetnsFd {
 public:
  // Opens `path` and checks that it is a network namespace. NotFound when the path does not exist;
  // InvalidArgument when it is not a namespace (a plain file, a bind mount that was removed) or
  // a namespace of another type; other errors by errno. Every message names the path.
  static absl::StatusOr<NetnsFd> Open(const std::string& path);

  NetnsFd(NetnsFd&& other) noexcept;
  NetnsFd& operator=(NetnsFd&& other) noexcept;
  NetnsFd(const NetnsFd&) = delete;
  NetnsFd& operator=(const NetnsFd&) = delete;
  ~NetnsFd();

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  NetnsFd(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  int fd_ = -1;
  std::string path_;
};

// Runs `fn` on a new thread that has entered `netns` (setns(CLONE_NEWNET)) and returns its
// status once the thread has ended. The calling thread never changes namespace, so this is safe
// from any thread of a multi-threaded daemon. Sockets `fn` opens stay in that namespace after it
// returns. Errors entering the namespace are reported naming its path.
absl::Status RunInNetns(const NetnsFd& netns, std::function<absl::Status()> fn);
// The same, opening the path first (errors as NetnsFd::Open).
absl::Status RunInNetns(const std::string& netns_path, std::function<absl::Status()> fn);

}  // namespace weave::netlink
