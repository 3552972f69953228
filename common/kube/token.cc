#include "common/kube/token.h"

#include <sys/stat.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/kube/file.h"
#include "common/status_macros.h"

namespace weave::kube {

FileToken::FileToken(std::string path, absl::Duration max_age, std::function<absl::Time()> now)
    : path_(std::move(path)), max_age_(max_age), now_(std::move(now)) {}

absl::StatusOr<std::string> FileToken::Token() {
  absl::MutexLock lock(&mu_);
  struct stat st;
  if (stat(path_.c_str(), &st) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("reading token file ", path_));
  }
  Stamp stamp{static_cast<uint64_t>(st.st_ino), static_cast<int64_t>(st.st_size),
              static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  absl::Time now = now_();
  if (fresh_ && stamp == stamp_ && now - read_at_ < max_age_) return token_;

  ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path_, "token file"));
  std::string token(absl::StripAsciiWhitespace(text));
  if (token.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("token file ", path_, " is empty"));
  }
  token_ = std::move(token);
  stamp_ = stamp;
  read_at_ = now;
  fresh_ = true;
  return token_;
}

void FileToken::Invalidate() {
  absl::MutexLock lock(&mu_);
  fresh_ = false;
}

}  // namespace weave::kube
