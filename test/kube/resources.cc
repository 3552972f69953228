#include "test/kube/resources.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace weave::testing::kube {

using nlohmann::json;

std::string ResourceType::GroupVersion() const {
  return group.empty() ? version : absl::StrCat(group, "/", version);
}

std::string ResourceType::QualifiedName() const {
  return group.empty() ? plural : absl::StrCat(plural, ".", group);
}

const std::vector<ResourceType>& Resources() {
  constexpr const char* kRbacGroup = "rbac.authorization.k8s.io";
  static const auto* const kResources = new std::vector<ResourceType>{
      {"", "v1", "namespaces", "namespace", "Namespace", false, true, {"ns"}},
      {"", "v1", "nodes", "node", "Node", false, true, {"no"}},
      {"", "v1", "pods", "pod", "Pod", true, true, {"po"}},
      {"", "v1", "configmaps", "configmap", "ConfigMap", true, false, {"cm"}},
      {"networking.k8s.io",
       "v1",
       "networkpolicies",
       "networkpolicy",
       "NetworkPolicy",
       true,
       false,
       {"netpol"}},
      // The identities and grants of a manifest (rbac.h authorizes with them when enabled).
      {"", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, false, {"sa"}},
      {kRbacGroup, "v1", "clusterroles", "clusterrole", "ClusterRole", false, false, {}, true},
      {kRbacGroup,
       "v1",
       "clusterrolebindings",
       "clusterrolebinding",
       "ClusterRoleBinding",
       false,
       false,
       {},
       true},
      {kRbacGroup, "v1", "roles", "role", "Role", true, false, {}, true},
      {kRbacGroup, "v1", "rolebindings", "rolebinding", "RoleBinding", true, false, {}, true},
  };
  return *kResources;
}

const ResourceType* FindResource(absl::string_view group, absl::string_view version,
                                 absl::string_view plural) {
  for (const ResourceType& r : Resources()) {
    if (r.group == group && r.version == version && r.plural == plural) return &r;
  }
  return nullptr;
}

const ResourceType* FindResourceByKind(absl::string_view api_version, absl::string_view kind) {
  for (const ResourceType& r : Resources()) {
    if (r.GroupVersion() == api_version && r.kind == kind) return &r;
  }
  return nullptr;
}

const ResourceType& NamespaceResource() { return Resources().front(); }

json CoreApiVersions(absl::string_view server_address) {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs",
           {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", std::string(server_address)}}}}};
}

namespace {

std::vector<std::string> Groups() {
  std::vector<std::string> groups;
  for (const ResourceType& r : Resources()) {
    if (!r.group.empty() && std::find(groups.begin(), groups.end(), r.group) == groups.end()) {
      groups.push_back(r.group);
    }
  }
  return groups;
}

json GroupDocument(const std::string& group) {
  json versions = json::array();
  for (const ResourceType& r : Resources()) {
    if (r.group != group) continue;
    json version = {{"groupVersion", r.GroupVersion()}, {"version", r.version}};
    if (std::find(versions.begin(), versions.end(), version) == versions.end()) {
      versions.push_back(version);
    }
  }
  return {{"name", group}, {"versions", versions}, {"preferredVersion", versions.front()}};
}

json ResourceEntry(const ResourceType& r) {
  return {{"name", r.plural},
          {"singularName", r.singular},
          {"namespaced", r.namespaced},
          {"kind", r.kind},
          {"verbs", {"create", "delete", "get", "list", "patch", "update", "watch"}},
          {"shortNames", r.short_names}};
}

}  // namespace

json ApiGroupList() {
  json groups = json::array();
  for (const std::string& group : Groups()) groups.push_back(GroupDocument(group));
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

json ApiGroup(absl::string_view group) {
  for (const std::string& g : Groups()) {
    if (g == group) {
      json doc = GroupDocument(g);
      doc["kind"] = "APIGroup";
      doc["apiVersion"] = "v1";
      return doc;
    }
  }
  return nullptr;
}

json ApiResourceList(absl::string_view group, absl::string_view version) {
  json resources = json::array();
  std::string group_version;
  for (const ResourceType& r : Resources()) {
    if (r.group != group || r.version != version) continue;
    group_version = r.GroupVersion();
    resources.push_back(ResourceEntry(r));
    if (r.has_status) {
      resources.push_back({{"name", r.plural + "/status"},
                           {"singularName", ""},
                           {"namespaced", r.namespaced},
                           {"kind", r.kind},
                           {"verbs", {"get", "patch", "update"}}});
    }
  }
  if (resources.empty()) return nullptr;
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", group_version},
          {"resources", resources}};
}

json VersionInfo() {
  return {{"major", "1"},
          {"minor", "29"},
          {"gitVersion", "v1.29.0-weave-fake"},
          {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},
          {"buildDate", "2024-01-01T00:00:00Z"},
          {"goVersion", "go1.21"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

}  // namespace weave::testing::kube
