#include "test/kube/api_path.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "test/kube/api_error.h"

namespace weave::testing::kube {

absl::StatusOr<ApiPath> ParseApiPath(absl::string_view path) {
  const absl::Status not_found =
      ApiError(404, "NotFound", "the server could not find the requested resource");
  absl::string_view rest = path;
  std::string group;
  if (!absl::ConsumePrefix(&rest, "/api/")) {
    if (!absl::ConsumePrefix(&rest, "/apis/")) return not_found;
    const size_t slash = rest.find('/');
    if (slash == absl::string_view::npos) return not_found;
    group = std::string(rest.substr(0, slash));
    rest.remove_prefix(slash + 1);
  }
  std::vector<std::string> parts = absl::StrSplit(rest, '/', absl::SkipEmpty());
  if (parts.size() < 2) return not_found;
  const std::string version = parts[0];
  parts.erase(parts.begin());
  ApiPath api;
  if (parts[0] == "watch") {
    api.legacy_watch = true;
    parts.erase(parts.begin());
  }
  // /namespaces/<ns>/<plural>[/<name>[/<sub>]]; a namespace's own subresource is the 3-part form
  // whose last part is no namespaced type.
  if (parts.size() >= 3 && parts[0] == "namespaces" &&
      FindResource(group, version, parts[2]) != nullptr) {
    api.ns = parts[1];
    parts.erase(parts.begin(), parts.begin() + 2);
    api.type = FindResource(group, version, parts[0]);
    if (!api.type->namespaced) return not_found;
  } else if (!parts.empty()) {
    api.type = FindResource(group, version, parts[0]);
    if (api.type == nullptr || (api.type->namespaced && parts.size() > 1)) return not_found;
  }
  if (api.type == nullptr || parts.size() > 3) return not_found;
  if (parts.size() >= 2) api.name = parts[1];
  if (parts.size() == 3) {
    api.subresource = parts[2];
    if (api.subresource != "status" || !api.type->has_status || api.legacy_watch) return not_found;
  }
  return api;
}

}  // namespace weave::testing::kube
