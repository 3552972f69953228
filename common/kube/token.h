// Where the bearer token comes from: a fixed string (a kubeconfig's token) or a file that
// kubelet rewrites as the projected service-account token rotates (about hourly).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace weave::kube {

// Thread-safe.
class TokenSource {
 public:
  virtual ~TokenSource() = default;

  // The token to send now. Errors name the source ("reading token file /x: ENOENT...").
  virtual absl::StatusOr<std::string> Token() = 0;

  // The server answered 401 to the last token: the next Token() should not reuse a cached one.
  virtual void Invalidate() {}
};

class StaticToken : public TokenSource {
 public:
  explicit StaticToken(std::string token) : token_(std::move(token)) {}
  absl::StatusOr<std::string> Token() override { return token_; }

 private:
  const std::string token_;
};

// Reads the file again when it changed (inode, size or modification time, through symlinks: the
// service-account directory swaps a ..data symlink), when `max_age` has passed since the last
// read, and after Invalidate(). Surrounding whitespace is trimmed; an empty file is an error.
// A failed re-read of a file read before returns the error (the old token is likely rejected).
class FileToken : public TokenSource {
 public:
  explicit FileToken(std::string path, absl::Duration max_age = absl::Minutes(1),
                     std::function<absl::Time()> now = absl::Now);

  absl::StatusOr<std::string> Token() override;
  void Invalidate() override;

 private:
  struct Stamp {
    uint64_t inode = 0;
    int64_t size = -1;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };

  const std::string path_;
  const absl::Duration max_age_;
  const std::function<absl::Time()> now_;
  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  Stamp stamp_ ABSL_GUARDED_BY(mu_);
  absl::Time read_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool fresh_ ABSL_GUARDED_BY(mu_) = false;  // false: read on the next Token()
};

}  // namespace weave::kube
