#include "test/kube/manifest.h"

#include <catch2/catch.hpp>

#include "test/harness/status_assertions.h"

namespace weave::testing::kube {
namespace {

using nlohmann::json;

TEST_CASE("a YAML manifest's documents are its objects", "[kube]") {
  ASSIGN_OR_REQUIRE(std::vector<json> objects, ParseManifest(R"(# the RBAC of weave-net
apiVersion: v1
kind: ServiceAccount
metadata:
  name: weave-net
  namespace: kube-system
---
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: weave-net, namespace: kube-system}
rules:
  - apiGroups: ['']
    resources: [configmaps]
    verbs: ["get", update]
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: weave-net
spec:
  minReadySeconds: 5
  template:
    spec:
      hostNetwork: true
      priorityClassName: null
      containers:
        - {name: weave, image: "weave:2.8", env: [{name: N, value: "1"}, {name: F, value: 1.5}]}
)"));
  REQUIRE(objects.size() == 3);
  CHECK(objects[0] == json({{"apiVersion", "v1"},
                            {"kind", "ServiceAccount"},
                            {"metadata", {{"name", "weave-net"}, {"namespace", "kube-system"}}}}));
  CHECK(objects[1]["rules"][0] ==
        json({{"apiGroups", {""}}, {"resources", {"configmaps"}}, {"verbs", {"get", "update"}}}));
  const json& spec = objects[2]["spec"];
  CHECK(spec["minReadySeconds"] == 5);
  CHECK(spec["template"]["spec"]["hostNetwork"] == true);
  CHECK(spec["template"]["spec"]["priorityClassName"].is_null());
  const json& env = spec["template"]["spec"]["containers"][0]["env"];
  CHECK(env[0]["value"] == "1");  // quoted: a string
  CHECK(env[1]["value"] == 1.5);

  CHECK(IsRbacObject(objects[0]));
  CHECK(IsRbacObject(objects[1]));
  CHECK_FALSE(IsRbacObject(objects[2]));
}

TEST_CASE("a JSON manifest is an object, an array or a List", "[kube]") {
  const json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}}};
  for (const json& text : {pod, json::array({pod}),
                           json({{"apiVersion", "v1"}, {"kind", "List"}, {"items", {pod}}})}) {
    INFO(text.dump());
    ASSIGN_OR_REQUIRE(std::vector<json> objects, ParseManifest(text.dump()));
    CHECK(objects == std::vector<json>{pod});
  }
}

TEST_CASE("a manifest that is not objects is InvalidArgument", "[kube]") {
  for (const char* text : {"[1, 2]", "kind: [unclosed", "- a\n- b\n"}) {
    INFO(text);
    CHECK(ParseManifest(text).status().code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(ReadManifest("/nonexistent/manifest.yaml").status().code() == absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace weave::testing::kube
