#include "common/netlink/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/netlink/errors.h"
#include "common/status_macros.h"

namespace weave::netlink {
namespace {

std::string NamespaceType(int clone_flag) {
  switch (clone_flag) {
    case CLONE_NEWNS:
      return "a mount";
    case CLONE_NEWUTS:
      return "a UTS";
    case CLONE_NEWIPC:
      return "an IPC";
    case CLONE_NEWUSER:
      return "a user";
    case CLONE_NEWPID:
      return "a PID";
    case CLONE_NEWCGROUP:
      return "a cgroup";
    default:
      return "another kind of";
  }
}

// OK if `fd` is a network namespace; InvalidArgument naming `path` otherwise.
absl::Status CheckNetworkNamespace(int fd, const std::string& path) {
  struct statfs fs {};
  if (fstatfs(fd, &fs) < 0) return ErrnoStatus(errno, absl::StrCat("checking namespace ", path));
  if (fs.f_type != NSFS_MAGIC) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a namespace"));
  }
  const int type = ioctl(fd, NS_GET_NSTYPE);
  if (type < 0) return ErrnoStatus(errno, absl::StrCat("checking namespace ", path));
  if (type != CLONE_NEWNET) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is ", NamespaceType(type), " namespace, not a network namespace"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<NetnsFd> NetnsFd::Open(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("opening network namespace ", path));
  NetnsFd netns(fd, path);
  RETURN_IF_ERROR(CheckNetworkNamespace(fd, path));
  return netns;
}

NetnsFd::NetnsFd(NetnsFd&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

NetnsFd& NetnsFd::operator=(NetnsFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

NetnsFd::~NetnsFd() {
  if (fd_ >= 0) close(fd_);
}

absl::Status RunInNetns(const NetnsFd& netns, std::function<absl::Status()> fn) {
  // pthread rather than std::thread: failing to start a thread is an error to report, not an
  // exception.
  struct Job {
    const NetnsFd& netns;
    const std::function<absl::Status()>& fn;
    absl::Status status;
  } job{netns, fn, absl::OkStatus()};
  auto run = [](void* arg) -> void* {
    Job& job = *static_cast<Job*>(arg);
    job.status =
        setns(job.netns.fd(), CLONE_NEWNET) < 0
            ? ErrnoStatus(errno, absl::StrCat("entering network namespace ", job.netns.path()))
            : job.fn();
    return nullptr;
  };
  pthread_t thread;
  if (const int error = pthread_create(&thread, nullptr, run, &job); error != 0) {
    return ErrnoStatus(error,
                       absl::StrCat("starting a thread for network namespace ", netns.path()));
  }
  pthread_join(thread, nullptr);
  return job.status;
}

absl::Status RunInNetns(const std::string& netns_path, std::function<absl::Status()> fn) {
  ASSIGN_OR_RETURN(const NetnsFd netns, NetnsFd::Open(netns_path));
  return RunInNetns(netns, std::move(fn));
}

}  // namespace weave::netlink
