// The resource types the fake API server serves, and the discovery documents that describe them
// (/api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version>, /version). Pure data.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace weave::testing::kube {

struct ResourceType {
  std::string group;  // "" for the core group
  std::string version;
  std::string plural;  // the path segment: "pods"
  std::string singular;
  std::string kind;  // "Pod"
  bool namespaced = false;
  // Whether the type has a status subresource: updates of the main resource then keep the stored
  // status, and <plural>/status updates change nothing but the status.
  bool has_status = false;
  std::vector<std::string> short_names;
  // RBAC objects' names need only be valid path segments ("system:discovery"), where other
  // types' are DNS subdomains.
  bool path_segment_names = false;

  std::string GroupVersion() const;  // the apiVersion field: "v1", "networking.k8s.io/v1"
  std::string ListKind() const { return kind + "List"; }
  // A message-friendly name, as the real server writes it: "pods",
  // "networkpolicies.networking.k8s.io".
  std::string QualifiedName() const;
};

// Nodes, namespaces, pods, configmaps, serviceaccounts (core/v1), networkpolicies
// (networking.k8s.io/v1), clusterroles, clusterrolebindings, roles and rolebindings
// (rbac.authorization.k8s.io/v1).
const std::vector<ResourceType>& Resources();

// nullptr when the type is not served.
const ResourceType* FindResource(absl::string_view group, absl::string_view version,
                                 absl::string_view plural);
const ResourceType* FindResourceByKind(absl::string_view api_version, absl::string_view kind);

// The namespace resource, which namespaced objects' existence depends on.
const ResourceType& NamespaceResource();

// Discovery. `server_address` ("127.0.0.1:6443") goes into /api's serverAddressByClientCIDRs.
nlohmann::json CoreApiVersions(absl::string_view server_address);
nlohmann::json ApiGroupList();
// nullopt-like: a null json when the group or version is not served.
nlohmann::json ApiGroup(absl::string_view group);
nlohmann::json ApiResourceList(absl::string_view group, absl::string_view version);
nlohmann::json VersionInfo();

}  // namespace weave::testing::kube
