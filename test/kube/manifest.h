// Kubernetes manifests as the fake API server's objects: what `kubectl apply -f` reads, so the
// binary can load a project's manifest (--seed, --rbac-objects) without kubectl. This is the only
// code in test/kube that includes yaml-cpp (which throws; errors become Statuses here).
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace weave::testing::kube {

// The objects of a manifest: JSON (an object, an array of objects or a List) or YAML with one or
// more "---"-separated documents, each an object or a List; empty documents are skipped. YAML
// plain scalars become JSON booleans, numbers and null as YAML 1.2's core schema reads them
// (true, 42, 1.5, null, ~); quoted ones stay strings. InvalidArgument for text that is neither,
// or a document that is not an object.
absl::StatusOr<std::vector<nlohmann::json>> ParseManifest(absl::string_view text);

// ParseManifest of a file's contents; NotFound when it cannot be read.
absl::StatusOr<std::vector<nlohmann::json>> ReadManifest(const std::string& path);

// Whether `object` is one of what RBAC authorizes with: a ServiceAccount, ClusterRole,
// ClusterRoleBinding, Role or RoleBinding.
bool IsRbacObject(const nlohmann::json& object);

}  // namespace weave::testing::kube
