// Faults the fake API server injects into its answers, for tests of a client's error handling.
// Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace weave::testing::kube {

enum class FaultKind {
  kForbidden,      // 403, Status reason Forbidden (RBAC said no)
  kGone,           // 410, Status reason Expired (a watch or list too old: relist)
  kInternalError,  // 500, Status reason InternalError
  kInvalidJson,    // 200 with a body that is not JSON (for a watch: one garbage line, then the end)
  kTruncated,      // the connection drops mid-body (for a watch: after half an event)
};

// "403", "410", "500", "garbage", "truncate" (the names the binary's control endpoint takes).
absl::StatusOr<FaultKind> ParseFaultKind(absl::string_view name);

struct Fault {
  FaultKind kind = FaultKind::kInternalError;
  int count = 1;              // how many matching requests get it
  std::string path_prefix;    // matches requests whose path starts with this; "" matches all
  bool watches_only = false;  // only WATCH requests match
};

class FaultInjector {
 public:
  void Add(Fault fault);
  void Clear();
  // The fault for this request, if one matches (the oldest first); uses up one of its count.
  std::optional<FaultKind> Take(absl::string_view path, bool is_watch);

 private:
  std::mutex mu_;
  std::vector<Fault> faults_;
};

}  // namespace weave::testing::kube
