// API paths: adding query parameters, and naming what a path refers to in messages.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace weave::kube {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// `path` with `params` appended (after '?' or '&' if it already has a query); names and values
// are percent-encoded, pairs with an empty value are left out.
std::string WithQuery(absl::string_view path, const QueryParams& params);

// What a path refers to, for messages: "/api/v1/nodes" -> "nodes",
// "/api/v1/namespaces/kube-system/configmaps/weave-net" -> "configmaps kube-system/weave-net",
// "/api/v1/nodes/node-1/status" -> "nodes node-1 status", "/api/v1/namespaces/ns/pods" ->
// "pods in ns". The query is ignored; a path of another shape is returned as it is.
std::string DescribePath(absl::string_view path);

}  // namespace weave::kube
