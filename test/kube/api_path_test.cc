#include "test/kube/api_path.h"

#include <catch2/catch.hpp>

#include "test/harness/status_assertions.h"

namespace weave::testing::kube {
namespace {

TEST_CASE("request paths name types, namespaces, objects and subresources", "[kube]") {
  absl::StatusOr<ApiPath> path = ParseApiPath("/api/v1/nodes/n1/status");
  REQUIRE_OK(path);
  CHECK(path->type->kind == "Node");
  CHECK(path->name == "n1");
  CHECK(path->subresource == "status");

  path = ParseApiPath("/apis/networking.k8s.io/v1/namespaces/ns1/networkpolicies/deny");
  REQUIRE_OK(path);
  CHECK(path->type->kind == "NetworkPolicy");
  CHECK(path->ns == "ns1");
  CHECK(path->name == "deny");

  path = ParseApiPath("/api/v1/pods");  // every namespace
  REQUIRE_OK(path);
  CHECK(path->type->kind == "Pod");
  CHECK(path->ns.empty());
  CHECK(path->name.empty());

  path = ParseApiPath("/api/v1/namespaces/kube-system/status");
  REQUIRE_OK(path);
  CHECK(path->type->kind == "Namespace");
  CHECK(path->name == "kube-system");
  CHECK(path->subresource == "status");

  path = ParseApiPath("/api/v1/watch/namespaces/default/pods");
  REQUIRE_OK(path);
  CHECK(path->legacy_watch);
  CHECK(path->ns == "default");
}

TEST_CASE("paths of unserved types or wrong scopes are NotFound", "[kube]") {
  for (const char* path : {"/api/v1/services", "/api/v1/pods/p1", "/api/v1/namespaces/a/nodes",
                           "/api/v1/namespaces/a/configmaps/c/status", "/apis/apps/v1/deployments",
                           "/healthz", "/api/v1/nodes/n1/proxy"}) {
    INFO(path);
    CHECK(ParseApiPath(path).status().code() == absl::StatusCode::kNotFound);
  }
}

}  // namespace
}  // namespace weave::testing::kube
