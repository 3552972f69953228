// RBAC through the fake API server's HTTPS: a service account's token is authorized by the
// roles and bindings created through the API, the admin token is not restricted.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "test/harness/status_assertions.h"
#include "test/kube/server_fixture.h"

namespace weave::testing::kube {
namespace {

using nlohmann::json;

constexpr char kRbac[] = "/apis/rbac.authorization.k8s.io/v1";

FakeApiServerOptions RbacOptions() {
  FakeApiServerOptions options;
  options.rbac = true;
  options.token_users["weave-token"] = ServiceAccountUser("kube-system", "weave-net");
  return options;
}

json Object(const std::string& kind, const std::string& name, json rest = json::object()) {
  rest["apiVersion"] = kind == "ServiceAccount" ? "v1" : "rbac.authorization.k8s.io/v1";
  rest["kind"] = kind;
  rest["metadata"]["name"] = name;
  return rest;
}

const json kWeaveSubject = {
    {"kind", "ServiceAccount"}, {"name", "weave-net"}, {"namespace", "kube-system"}};

TEST_CASE("with rbac a service account may do what its roles grant and no more", "[kube][rbac]") {
  ServerFixture f(RbacOptions());
  std::unique_ptr<ApiTestClient> weave = f.NewClient("weave-token");
  REQUIRE(f.CreatePod("p1").code == 201);

  // The token is the account's only while the account exists.
  CHECK(weave->Get("/api/v1/pods").code == 401);
  REQUIRE(f.client
              ->Post("/api/v1/namespaces/kube-system/serviceaccounts",
                     Object("ServiceAccount", "weave-net"))
              .code == 201);

  // No grant yet: discovery only.
  CHECK(weave->Get("/api/v1").code == 200);
  ApiAnswer denied = weave->Get("/api/v1/pods");
  CHECK(denied.code == 403);
  CHECK(denied.body["reason"] == "Forbidden");
  CHECK(denied.body["message"] ==
        "pods is forbidden: User \"system:serviceaccount:kube-system:weave-net\" cannot list "
        "resource \"pods\" in API group \"\" at the cluster scope");

  // The grant, created through the API as kubectl apply would.
  REQUIRE(f.client
              ->Post(absl::StrCat(kRbac, "/clusterroles"),
                     Object("ClusterRole", "weave-net",
                            {{"rules",
                              {{{"apiGroups", {""}},
                                {"resources", {"pods"}},
                                {"verbs", {"get", "list", "watch"}}}}}}))
              .code == 201);
  REQUIRE(f.client
              ->Post(absl::StrCat(kRbac, "/clusterrolebindings"),
                     Object("ClusterRoleBinding", "weave-net",
                            {{"roleRef",
                              {{"apiGroup", "rbac.authorization.k8s.io"},
                               {"kind", "ClusterRole"},
                               {"name", "weave-net"}}},
                             {"subjects", {kWeaveSubject}}}))
              .code == 201);
  ApiAnswer pods = weave->Get("/api/v1/pods");
  REQUIRE(pods.code == 200);
  CHECK(pods.body["items"].size() == 1);
  CHECK(weave->Get("/api/v1/namespaces/default/pods/p1").code == 200);
  WatchReader watch(f.server->url(), f.server->pki().ca_cert_path, "weave-token",
                    "/api/v1/pods?watch=1");
  CHECK_OK(watch.WaitForEvents(1, absl::Seconds(10)));
  CHECK(watch.code() == 200);

  // A verb the role lacks.
  ApiAnswer patch = weave->Patch("/api/v1/namespaces/default/pods/p1",
                                 {{"metadata", {{"labels", {{"a", "b"}}}}}});
  CHECK(patch.code == 403);
  CHECK(patch.body["message"] ==
        "pods \"p1\" is forbidden: User \"system:serviceaccount:kube-system:weave-net\" cannot "
        "patch resource \"pods\" in API group \"\" in the namespace \"default\"");
  CHECK(patch.body["details"] == json({{"name", "p1"}, {"kind", "pods"}}));
  CHECK(weave->Get("/api/v1/nodes").code == 403);
  CHECK(weave->Post("/_fake/compact", json::object()).code == 403);
  CHECK(f.Requested("PATCH /api/v1/namespaces/default/pods/p1 403"));

  // The admin token is not restricted; unknown tokens are not anyone.
  CHECK(f.client->Get("/api/v1/nodes").code == 200);
  CHECK(
      f.client
          ->Patch("/api/v1/namespaces/default/pods/p1", {{"metadata", {{"labels", {{"a", "b"}}}}}})
          .code == 200);
  CHECK(f.NewClient("nobody")->Get("/api/v1/pods").code == 401);
}

TEST_CASE("with rbac a Role with resourceNames grants one object in its namespace",
          "[kube][rbac]") {
  ServerFixture f(RbacOptions());
  REQUIRE_OK(f.server->store().Seed(json::array(
      {Object("ServiceAccount", "weave-net", {{"metadata", {{"namespace", "kube-system"}}}}),
       Object("Role", "weave-net",
              {{"metadata", {{"namespace", "kube-system"}}},
               {"rules",
                {{{"apiGroups", {""}},
                  {"resources", {"configmaps"}},
                  {"resourceNames", {"weave-net"}},
                  {"verbs", {"get", "update", "list"}}}}}}),
       Object(
           "RoleBinding", "weave-net",
           {{"metadata", {{"namespace", "kube-system"}}},
            {"roleRef",
             {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "weave-net"}}},
            {"subjects", {kWeaveSubject}}})})));
  REQUIRE(f.CreateConfigMap("weave-net", "kube-system").code == 201);
  REQUIRE(f.CreateConfigMap("weave-net", "default").code == 201);
  std::unique_ptr<ApiTestClient> weave = f.NewClient("weave-token");

  CHECK(weave->Get("/api/v1/namespaces/kube-system/configmaps/weave-net").code == 200);
  CHECK(weave->Get("/api/v1/namespaces/default/configmaps/weave-net").code == 403);
  CHECK(weave->Get("/api/v1/namespaces/kube-system/configmaps").code == 403);
  CHECK(
      weave
          ->Get("/api/v1/namespaces/kube-system/configmaps?fieldSelector=metadata.name%3Dweave-net")
          .code == 200);
  ApiAnswer create = weave->Post("/api/v1/namespaces/kube-system/configmaps",
                                 {{"metadata", {{"name", "weave-net-2"}}}});
  CHECK(create.code == 403);
  CHECK(absl::StrContains(create.body["message"].get<std::string>(), "cannot create resource"));

  // A token registered at run time, through the control endpoint.
  REQUIRE(f.client->Post("/_fake/tokens", {{"token", "alice-token"}, {"user", "alice"}}).code ==
          200);
  CHECK(
      f.NewClient("alice-token")->Get("/api/v1/namespaces/kube-system/configmaps/weave-net").code ==
      403);
  CHECK(f.NewClient("alice-token")->Get("/version").code == 200);
}

TEST_CASE("without rbac every known token may do anything", "[kube][rbac]") {
  FakeApiServerOptions options = RbacOptions();
  options.rbac = false;
  ServerFixture f(options);
  REQUIRE_OK(f.server->store().Put(
      Object("ServiceAccount", "weave-net", {{"metadata", {{"namespace", "kube-system"}}}})));
  CHECK(f.NewClient("weave-token")->Patch("/api/v1/namespaces/kube-system", json::object()).code ==
        200);
  CHECK(f.NewClient("nobody")->Get("/api/v1/pods").code == 401);
}

}  // namespace
}  // namespace weave::testing::kube
