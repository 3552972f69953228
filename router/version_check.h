// The optional version check. The original asked a public "checkpoint" service, which no longer
// exists; this product contacts only a URL the operator configures (--checkpoint-url /
// CHECKPOINT_URL), never by default, and never when CHECKPOINT_DISABLE is set. The check runs
// on its own thread: it never delays start-up or status.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "weave/router.pb.h"

namespace weave::router {

// The latest version from a checkpoint answer: JSON with "current_version" (the original
// checkpoint API's field). InvalidArgument for anything else.
absl::StatusOr<std::string> ParseCheckpointAnswer(absl::string_view body);

// Whether dotted version `latest` is newer than `current` ("2.10.0" > "2.9.1"; a leading "v"
// and a "-suffix" are ignored).
bool IsNewerVersion(absl::string_view latest, absl::string_view current);

class VersionChecker {
 public:
  using Fetch = std::function<absl::StatusOr<std::string>(const std::string& url)>;

  // Checks `url` now and then every `interval`; `fetch` does the GET (http::Get in weaver).
  VersionChecker(std::string url, std::string current, absl::Duration interval, Fetch fetch);
  ~VersionChecker();  // stops the thread

  // What `weave status` shows on the Version line.
  v1::VersionCheck Status() const;

 private:
  void Run();

  const std::string url_;
  const std::string current_;
  const absl::Duration interval_;
  const Fetch fetch_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  v1::VersionCheck status_;
  std::thread thread_;
};

}  // namespace weave::router
