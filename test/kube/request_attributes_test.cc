#include "test/kube/request_attributes.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "test/kube/api_error.h"

namespace weave::testing::kube {
namespace {

using nlohmann::json;

const UserInfo kWeave = ServiceAccountUser("kube-system", "weave-net");

RequestAttributes Of(const std::string& method, const std::string& path,
                     std::map<std::string, std::string> query = {}) {
  RestRequest request;
  request.method = method;
  request.path = path;
  request.query = std::move(query);
  return RequestAttributesOf(request, kWeave);
}

// verb group resource subresource namespace name, for one-line comparisons.
std::string Describe(const RequestAttributes& a) {
  return absl::StrCat(a.verb, " ", a.api_group, "|", a.resource, "|", a.subresource, "|", a.ns, "|",
                      a.name);
}

TEST_CASE("request attributes map methods to verbs as the real server", "[kube][rbac]") {
  CHECK(Describe(Of("GET", "/api/v1/nodes/n1")) == "get |nodes|||n1");
  CHECK(Describe(Of("GET", "/api/v1/nodes")) == "list |nodes|||");
  CHECK(Describe(Of("GET", "/api/v1/pods", {{"watch", "true"}})) == "watch |pods|||");
  CHECK(Describe(Of("GET", "/api/v1/pods", {{"watch", "1"}})) == "watch |pods|||");
  CHECK(Describe(Of("GET", "/api/v1/watch/namespaces/default/pods")) == "watch |pods||default|");
  CHECK(Describe(Of("GET", "/api/v1/watch/namespaces/default/pods/p1")) ==
        "watch |pods||default|p1");
  CHECK(Describe(Of("POST", "/api/v1/namespaces/kube-system/configmaps")) ==
        "create |configmaps||kube-system|");
  CHECK(Describe(Of("PUT", "/api/v1/namespaces/kube-system/configmaps/weave-net")) ==
        "update |configmaps||kube-system|weave-net");
  CHECK(Describe(Of("PATCH", "/api/v1/nodes/n1/status")) == "patch |nodes|status||n1");
  CHECK(Describe(Of("DELETE", "/api/v1/namespaces/default/pods/p1")) == "delete |pods||default|p1");
  CHECK(Describe(Of("DELETE", "/api/v1/namespaces/default/pods")) ==
        "deletecollection |pods||default|");
  CHECK(Describe(Of("GET", "/apis/networking.k8s.io/v1/namespaces/ns1/networkpolicies")) ==
        "list networking.k8s.io|networkpolicies||ns1|");
}

TEST_CASE("request attributes: a namespace is in itself and a name selector names",
          "[kube][rbac]") {
  CHECK(Describe(Of("GET", "/api/v1/namespaces")) == "list |namespaces|||");
  CHECK(Describe(Of("GET", "/api/v1/namespaces/kube-system")) ==
        "get |namespaces||kube-system|kube-system");
  CHECK(Describe(Of("PUT", "/api/v1/namespaces/kube-system/status")) ==
        "update |namespaces|status|kube-system|kube-system");
  CHECK(Describe(Of("GET", "/api/v1/namespaces/kube-system/configmaps",
                    {{"fieldSelector", "metadata.name=weave-net"}})) ==
        "list |configmaps||kube-system|weave-net");
  CHECK(Describe(Of("GET", "/api/v1/nodes",
                    {{"watch", "true"},
                     {"fieldSelector", "spec.unschedulable=false,metadata.name==n1"}})) ==
        "watch |nodes|||n1");
  CHECK(Describe(Of("GET", "/api/v1/nodes", {{"fieldSelector", "metadata.name!=n1"}})) ==
        "list |nodes|||");
  CHECK(Describe(Of("GET", "/api/v1/nodes", {{"fieldSelector", "metadata.name=a/b"}})) ==
        "list |nodes|||");
}

TEST_CASE("request attributes: discovery and control paths are non-resource requests",
          "[kube][rbac]") {
  for (const char* path :
       {"/api", "/api/v1", "/apis", "/apis/networking.k8s.io", "/apis/networking.k8s.io/v1",
        "/version", "/openapi/v2", "/_fake/faults"}) {
    INFO(path);
    const RequestAttributes a = Of("GET", path);
    CHECK_FALSE(a.resource_request);
    CHECK(a.verb == "get");
    CHECK(a.path == path);
  }
  CHECK(Of("POST", "/_fake/faults").verb == "post");
}

TEST_CASE("a denied request is the real server's 403 Status", "[kube][rbac]") {
  const json status = StatusObject(DeniedError(Of("PATCH", "/api/v1/nodes/n1/status"), Decision{}));
  CHECK(status == json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},
      "status":"Failure","message":"nodes \"n1\" is forbidden: User \"system:serviceaccount:kube-system:weave-net\" cannot patch resource \"nodes/status\" in API group \"\" at the cluster scope",
      "reason":"Forbidden","details":{"name":"n1","kind":"nodes"},"code":403})"));
  CHECK(HttpCode(DeniedError(Of("GET", "/api/v1/nodes"), Decision{})) == 403);

  const json listed = StatusObject(DeniedError(
      Of("GET", "/apis/networking.k8s.io/v1/namespaces/kube-system/networkpolicies"),
      Decision{false, "RBAC: clusterrole.rbac.authorization.k8s.io \"weave-net\" not found"}));
  CHECK(listed["message"] ==
        "networkpolicies.networking.k8s.io is forbidden: User "
        "\"system:serviceaccount:kube-system:weave-net\" cannot list resource \"networkpolicies\" "
        "in API group \"networking.k8s.io\" in the namespace \"kube-system\": RBAC: "
        "clusterrole.rbac.authorization.k8s.io \"weave-net\" not found");
  CHECK(listed["details"] == json({{"group", "networking.k8s.io"}, {"kind", "networkpolicies"}}));

  const json path = StatusObject(DeniedError(Of("GET", "/_fake/requests"), Decision{}));
  CHECK(path["message"] ==
        "forbidden: User \"system:serviceaccount:kube-system:weave-net\" cannot get path "
        "\"/_fake/requests\"");
  CHECK(path["details"] == json::object());
}

}  // namespace
}  // namespace weave::testing::kube
