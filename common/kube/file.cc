#include "common/kube/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"

namespace weave::kube {

namespace {
constexpr size_t kMaxFileSize = 16 << 20;
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, absl::string_view what) {
  const std::string context = absl::StrCat("reading ", what, " ", path);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, context);
  absl::Cleanup closer = [fd] { close(fd); };
  std::string data;
  char buffer[8192];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::ErrnoToStatus(errno, context);
    if (n == 0) return data;
    data.append(buffer, static_cast<size_t>(n));
    if (data.size() > kMaxFileSize) {
      return absl::FailedPreconditionError(absl::StrCat(context, ": larger than 16 MiB"));
    }
  }
}

}  // namespace weave::kube
