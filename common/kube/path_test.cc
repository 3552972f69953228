#include "common/kube/path.h"

#include <catch2/catch.hpp>

namespace weave::kube {
namespace {

TEST_CASE("WithQuery appends encoded parameters and leaves out empty ones", "[kube]") {
  CHECK(WithQuery("/api/v1/nodes", {}) == "/api/v1/nodes");
  CHECK(WithQuery("/api/v1/nodes", {{"limit", "500"}, {"continue", ""}}) ==
        "/api/v1/nodes?limit=500");
  CHECK(WithQuery("/api/v1/pods", {{"labelSelector", "app in (a,b)"}, {"watch", "1"}}) ==
        "/api/v1/pods?labelSelector=app%20in%20%28a%2Cb%29&watch=1");
  // A path that has a query already gets '&'.
  CHECK(WithQuery("/api/v1/pods?fieldSelector=spec.nodeName=n1", {{"watch", "1"}}) ==
        "/api/v1/pods?fieldSelector=spec.nodeName=n1&watch=1");
  CHECK(WithQuery("/x", {{"fieldSelector", "spec.nodeName=n1&x"}}) ==
        "/x?fieldSelector=spec.nodeName%3Dn1%26x");
}

TEST_CASE("DescribePath names what a path refers to", "[kube]") {
  CHECK(DescribePath("/api/v1/nodes") == "nodes");
  CHECK(DescribePath("/api/v1/nodes?limit=500") == "nodes");
  CHECK(DescribePath("/api/v1/nodes/node-1") == "nodes node-1");
  CHECK(DescribePath("/api/v1/nodes/node-1/status") == "nodes node-1 status");
  CHECK(DescribePath("/api/v1/namespaces/kube-system/configmaps/weave-net") ==
        "configmaps kube-system/weave-net");
  CHECK(DescribePath("/api/v1/namespaces/default/pods") == "pods in default");
  CHECK(DescribePath("/api/v1/namespaces") == "namespaces");
  CHECK(DescribePath("/api/v1/namespaces/default") == "namespaces default");
  CHECK(DescribePath("/apis/networking.k8s.io/v1/networkpolicies") == "networkpolicies");
  CHECK(DescribePath("/apis/networking.k8s.io/v1/namespaces/ns/networkpolicies/deny") ==
        "networkpolicies ns/deny");
  for (const char* odd : {"", "/", "/healthz", "/api", "/api/v1", "/apis/g/v", "/api/v1/a/b/c/d"}) {
    CHECK(DescribePath(odd) == odd);
  }
}

}  // namespace
}  // namespace weave::kube
