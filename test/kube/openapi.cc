#include "test/kube/openapi.h"

#include "absl/strings/str_cat.h"
#include "test/kube/resources.h"

namespace weave::testing::kube {

using nlohmann::json;

namespace {

std::string GroupVersionPath(const ResourceType& type) {
  return type.group.empty() ? absl::StrCat("api/", type.version)
                            : absl::StrCat("apis/", type.group, "/", type.version);
}

json Operation(const ResourceType& type, const char* verb) {
  return {{"operationId", absl::StrCat(verb, type.kind)},
          {"x-kubernetes-action", verb},
          {"x-kubernetes-group-version-kind",
           {{"group", type.group}, {"version", type.version}, {"kind", type.kind}}},
          {"parameters",
           {{{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
            {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
            {{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}}}}},
          {"responses", {{"200", {{"description", "OK"}}}}}};
}

}  // namespace

json OpenApiV3Root() {
  json paths = json::object();
  for (const ResourceType& type : Resources()) {
    const std::string path = GroupVersionPath(type);
    paths[path] = {{"serverRelativeURL", absl::StrCat("/openapi/v3/", path, "?hash=0")}};
  }
  return {{"paths", paths}};
}

json OpenApiV3Document(absl::string_view group_version_path) {
  json paths = json::object();
  for (const ResourceType& type : Resources()) {
    if (GroupVersionPath(type) != group_version_path) continue;
    const std::string collection =
        absl::StrCat("/", GroupVersionPath(type),
                     type.namespaced ? "/namespaces/{namespace}/" : "/", type.plural);
    paths[collection] = {{"post", Operation(type, "post")}};
    paths[collection + "/{name}"] = {{"put", Operation(type, "put")},
                                     {"patch", Operation(type, "patch")}};
  }
  if (paths.empty()) return nullptr;
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "v1.29.0"}}},
          {"paths", paths},
          {"components", {{"schemas", json::object()}}}};
}

json OpenApiV2Json() {
  return {{"swagger", "2.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "v1.29.0"}}},
          {"paths", json::object()},
          {"definitions", json::object()}};
}

}  // namespace weave::testing::kube
