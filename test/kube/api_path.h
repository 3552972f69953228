// What a request path names: /api/v1/nodes/n1/status, /apis/networking.k8s.io/v1/namespaces/
// default/networkpolicies, the pre-1.11 /api/v1/watch/... form. Pure.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "test/kube/resources.h"

namespace weave::testing::kube {

struct ApiPath {
  const ResourceType* type = nullptr;
  std::string ns;             // "" for cluster-scoped types and for lists across namespaces
  std::string name;           // "" for a collection
  std::string subresource;    // "" or "status"
  bool legacy_watch = false;  // /api/v1/watch/...: a WATCH without ?watch=1
};

// A NotFound ApiError for paths that name no served resource (discovery paths included).
absl::StatusOr<ApiPath> ParseApiPath(absl::string_view path);

}  // namespace weave::testing::kube
