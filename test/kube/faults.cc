#include "test/kube/faults.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace weave::testing::kube {

absl::StatusOr<FaultKind> ParseFaultKind(absl::string_view name) {
  if (name == "403") return FaultKind::kForbidden;
  if (name == "410") return FaultKind::kGone;
  if (name == "500") return FaultKind::kInternalError;
  if (name == "garbage") return FaultKind::kInvalidJson;
  if (name == "truncate") return FaultKind::kTruncated;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown fault \"", name, "\" (expected 403, 410, 500, garbage or truncate)"));
}

void FaultInjector::Add(Fault fault) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fault.count > 0) faults_.push_back(std::move(fault));
}

void FaultInjector::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
}

std::optional<FaultKind> FaultInjector::Take(absl::string_view path, bool is_watch) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (!absl::StartsWith(path, it->path_prefix) || (it->watches_only && !is_watch)) continue;
    const FaultKind kind = it->kind;
    if (--it->count == 0) faults_.erase(it);
    return kind;
  }
  return std::nullopt;
}

}  // namespace weave::testing::kube
