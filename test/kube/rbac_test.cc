#include "test/kube/rbac.h"

#include <catch2/catch.hpp>

namespace weave::testing::kube {
namespace {

const UserInfo kWeave = ServiceAccountUser("kube-system", "weave-net");

RequestAttributes Request(const std::string& verb, const std::string& resource,
                          const std::string& ns = "", const std::string& name = "",
                          const std::string& group = "", UserInfo user = kWeave) {
  RequestAttributes request;
  request.user = std::move(user);
  request.verb = verb;
  request.resource_request = true;
  request.api_group = group;
  const size_t slash = resource.find('/');
  request.resource = resource.substr(0, slash);
  if (slash != std::string::npos) request.subresource = resource.substr(slash + 1);
  request.ns = ns;
  request.name = name;
  return request;
}

RequestAttributes PathRequest(const std::string& path, UserInfo user = kWeave) {
  RequestAttributes request;
  request.user = std::move(user);
  request.verb = "get";
  request.path = path;
  return request;
}

PolicyRule Rule(std::vector<std::string> verbs, std::vector<std::string> resources,
                std::vector<std::string> groups = {""}, std::vector<std::string> names = {}) {
  return {std::move(verbs), std::move(groups), std::move(resources), std::move(names), {}};
}

const Subject kWeaveSubject{"ServiceAccount", "weave-net", "kube-system"};

// A ClusterRole "r" with `rules` bound cluster-wide to `subject`.
RbacPolicy ClusterGrant(std::vector<PolicyRule> rules, Subject subject = kWeaveSubject) {
  RbacPolicy policy;
  policy.cluster_roles.push_back({"", "r", std::move(rules)});
  policy.cluster_role_bindings.push_back({"", "b", "ClusterRole", "r", {std::move(subject)}});
  return policy;
}

bool Allowed(const RbacPolicy& policy, const RequestAttributes& request) {
  return Authorize(policy, request).allowed;
}

TEST_CASE("rbac verbs match exactly or by the wildcard", "[kube][rbac]") {
  const RbacPolicy read = ClusterGrant({Rule({"get", "list", "watch"}, {"pods"})});
  CHECK(Allowed(read, Request("list", "pods")));
  CHECK(Allowed(read, Request("watch", "pods", "default")));
  CHECK(Allowed(read, Request("get", "pods", "default", "p1")));
  for (const char* verb : {"create", "update", "patch", "delete", "deletecollection"}) {
    INFO(verb);
    CHECK_FALSE(Allowed(read, Request(verb, "pods", "default", "p1")));
  }
  const RbacPolicy all = ClusterGrant({Rule({"*"}, {"pods"})});
  CHECK(Allowed(all, Request("deletecollection", "pods", "default")));
  CHECK_FALSE(Allowed(all, Request("get", "nodes", "", "n1")));
}

TEST_CASE("rbac api groups: the core group is the empty string and the wildcard is any",
          "[kube][rbac]") {
  const RbacPolicy core = ClusterGrant({Rule({"list"}, {"networkpolicies", "pods"})});
  CHECK(Allowed(core, Request("list", "pods")));
  CHECK_FALSE(Allowed(core, Request("list", "networkpolicies", "", "", "networking.k8s.io")));
  const RbacPolicy networking =
      ClusterGrant({Rule({"list"}, {"networkpolicies"}, {"networking.k8s.io"})});
  CHECK(Allowed(networking, Request("list", "networkpolicies", "", "", "networking.k8s.io")));
  CHECK_FALSE(Allowed(networking, Request("list", "networkpolicies")));
  const RbacPolicy any = ClusterGrant({Rule({"list"}, {"networkpolicies", "pods"}, {"*"})});
  CHECK(Allowed(any, Request("list", "networkpolicies", "", "", "networking.k8s.io")));
  CHECK(Allowed(any, Request("list", "pods")));
}

TEST_CASE("rbac a subresource is neither implied by its resource nor implies it", "[kube][rbac]") {
  const RbacPolicy nodes = ClusterGrant({Rule({"patch", "get"}, {"nodes"})});
  CHECK(Allowed(nodes, Request("patch", "nodes", "", "n1")));
  CHECK_FALSE(Allowed(nodes, Request("patch", "nodes/status", "", "n1")));

  const RbacPolicy status = ClusterGrant({Rule({"patch"}, {"nodes/status"})});
  CHECK(Allowed(status, Request("patch", "nodes/status", "", "n1")));
  CHECK_FALSE(Allowed(status, Request("patch", "nodes", "", "n1")));
  CHECK_FALSE(Allowed(status, Request("patch", "pods/status", "default", "p1")));

  // "*" is every resource and subresource; "*/status" every status but no main resource.
  const RbacPolicy star = ClusterGrant({Rule({"patch"}, {"*"})});
  CHECK(Allowed(star, Request("patch", "nodes/status", "", "n1")));
  CHECK(Allowed(star, Request("patch", "pods", "default", "p1")));
  const RbacPolicy any_status = ClusterGrant({Rule({"patch"}, {"*/status"})});
  CHECK(Allowed(any_status, Request("patch", "nodes/status", "", "n1")));
  CHECK(Allowed(any_status, Request("patch", "pods/status", "default", "p1")));
  CHECK_FALSE(Allowed(any_status, Request("patch", "nodes", "", "n1")));
}

TEST_CASE("rbac resourceNames allow named requests only, never the collection", "[kube][rbac]") {
  const RbacPolicy named =
      ClusterGrant({Rule({"get", "list", "watch", "create", "update", "patch", "delete"},
                         {"configmaps"}, {""}, {"weave-net"})});
  for (const char* verb : {"get", "update", "patch", "delete"}) {
    INFO(verb);
    CHECK(Allowed(named, Request(verb, "configmaps", "kube-system", "weave-net")));
    CHECK_FALSE(Allowed(named, Request(verb, "configmaps", "kube-system", "other")));
  }
  // The collection: a LIST or WATCH of all, and CREATE (whose name is in the body, not the URL).
  for (const char* verb : {"list", "watch", "create", "deletecollection"}) {
    INFO(verb);
    CHECK_FALSE(Allowed(named, Request(verb, "configmaps", "kube-system")));
  }
  // A LIST or WATCH with fieldSelector metadata.name=weave-net carries the name.
  CHECK(Allowed(named, Request("watch", "configmaps", "kube-system", "weave-net")));
}

TEST_CASE("rbac a Role applies only in its RoleBinding's namespace", "[kube][rbac]") {
  RbacPolicy policy;
  policy.roles.push_back({"kube-system", "weave-net", {Rule({"get", "list"}, {"configmaps"})}});
  policy.role_bindings.push_back(
      {"kube-system", "weave-net", "Role", "weave-net", {kWeaveSubject}});
  CHECK(Allowed(policy, Request("get", "configmaps", "kube-system", "weave-net")));
  CHECK_FALSE(Allowed(policy, Request("get", "configmaps", "default", "weave-net")));
  CHECK_FALSE(Allowed(policy, Request("list", "configmaps")));  // across namespaces

  // A binding in another namespace does not reach a Role of kube-system.
  RbacPolicy elsewhere;
  elsewhere.roles.push_back({"kube-system", "weave-net", {Rule({"get"}, {"configmaps"})}});
  elsewhere.role_bindings.push_back({"default", "weave-net", "Role", "weave-net", {kWeaveSubject}});
  const Decision decision = Authorize(elsewhere, Request("get", "configmaps", "default", "x"));
  CHECK_FALSE(decision.allowed);
  CHECK(decision.reason == "RBAC: role.rbac.authorization.k8s.io \"weave-net\" not found");
}

TEST_CASE("rbac a ClusterRole bound by a RoleBinding applies in that namespace only",
          "[kube][rbac]") {
  RbacPolicy policy;
  policy.cluster_roles.push_back({"", "reader", {Rule({"get"}, {"pods", "nodes"})}});
  policy.role_bindings.push_back({"default", "read", "ClusterRole", "reader", {kWeaveSubject}});
  CHECK(Allowed(policy, Request("get", "pods", "default", "p1")));
  CHECK_FALSE(Allowed(policy, Request("get", "pods", "kube-system", "p1")));
  CHECK_FALSE(Allowed(policy, Request("get", "nodes", "", "n1")));  // cluster-scoped

  // A ClusterRoleBinding grants it everywhere.
  policy.cluster_role_bindings.push_back({"", "read", "ClusterRole", "reader", {kWeaveSubject}});
  CHECK(Allowed(policy, Request("get", "pods", "kube-system", "p1")));
  CHECK(Allowed(policy, Request("get", "nodes", "", "n1")));
}

TEST_CASE("rbac subjects: service accounts, users and groups", "[kube][rbac]") {
  const PolicyRule list_pods = Rule({"list"}, {"pods"});
  const RequestAttributes request = Request("list", "pods");
  CHECK(
      Allowed(ClusterGrant({list_pods}, {"ServiceAccount", "weave-net", "kube-system"}), request));
  CHECK_FALSE(
      Allowed(ClusterGrant({list_pods}, {"ServiceAccount", "weave-net", "default"}), request));
  CHECK_FALSE(
      Allowed(ClusterGrant({list_pods}, {"ServiceAccount", "other", "kube-system"}), request));
  // A ClusterRoleBinding's ServiceAccount subject needs its namespace; a RoleBinding's defaults
  // to the binding's.
  CHECK_FALSE(Allowed(ClusterGrant({list_pods}, {"ServiceAccount", "weave-net", ""}), request));
  RbacPolicy local;
  local.roles.push_back({"kube-system", "r", {list_pods}});
  local.role_bindings.push_back(
      {"kube-system", "b", "Role", "r", {{"ServiceAccount", "weave-net", ""}}});
  CHECK(Allowed(local, Request("list", "pods", "kube-system")));

  CHECK(Allowed(ClusterGrant({list_pods}, {"User", kWeave.name, ""}), request));
  CHECK_FALSE(Allowed(ClusterGrant({list_pods}, {"User", "alice", ""}), request));
  CHECK(Allowed(ClusterGrant({list_pods}, {"Group", "system:serviceaccounts:kube-system", ""}),
                request));
  CHECK(Allowed(ClusterGrant({list_pods}, {"Group", "system:serviceaccounts", ""}), request));
  CHECK_FALSE(
      Allowed(ClusterGrant({list_pods}, {"Group", "system:serviceaccounts:default", ""}), request));
  const UserInfo alice{"alice", {"devs", "system:authenticated"}};
  CHECK(Allowed(ClusterGrant({list_pods}, {"Group", "devs", ""}),
                Request("list", "pods", "", "", "", alice)));
}

TEST_CASE("rbac names the grant that allowed and the missing role that could not", "[kube][rbac]") {
  const Decision allowed =
      Authorize(ClusterGrant({Rule({"list"}, {"pods"})}), Request("list", "pods"));
  CHECK(allowed.allowed);
  CHECK(allowed.reason ==
        "RBAC: allowed by ClusterRoleBinding \"b\" of ClusterRole \"r\" to ServiceAccount "
        "\"weave-net/kube-system\"");

  RbacPolicy dangling;
  dangling.cluster_role_bindings.push_back({"", "b", "ClusterRole", "weave-net", {kWeaveSubject}});
  const Decision denied = Authorize(dangling, Request("list", "pods"));
  CHECK_FALSE(denied.allowed);
  CHECK(denied.reason == "RBAC: clusterrole.rbac.authorization.k8s.io \"weave-net\" not found");
  // No binding for the user: no reason, as the real authorizer's.
  CHECK(Authorize(RbacPolicy{}, Request("list", "pods")).reason.empty());
}

TEST_CASE("rbac system:masters may do anything", "[kube][rbac]") {
  const UserInfo admin{"kubernetes-admin", {"system:masters", "system:authenticated"}};
  CHECK(Allowed(RbacPolicy{}, Request("delete", "nodes", "", "n1", "", admin)));
  CHECK(Allowed(RbacPolicy{}, PathRequest("/_fake/faults", admin)));
}

TEST_CASE("rbac non-resource paths: discovery for everyone, the rest by nonResourceURLs",
          "[kube][rbac]") {
  const RbacPolicy bootstrap = BootstrapPolicy();
  for (const char* path : {"/api", "/api/v1", "/apis", "/apis/networking.k8s.io/v1", "/version",
                           "/openapi/v2", "/openapi/v3/api/v1"}) {
    INFO(path);
    CHECK(Allowed(bootstrap, PathRequest(path)));
  }
  CHECK_FALSE(Allowed(bootstrap, PathRequest("/_fake/faults")));
  RequestAttributes post = PathRequest("/api");
  post.verb = "post";
  CHECK_FALSE(Allowed(bootstrap, post));

  PolicyRule metrics{{"get"}, {}, {}, {}, {"/metrics"}};
  CHECK(Allowed(ClusterGrant({metrics}), PathRequest("/metrics")));
  CHECK_FALSE(Allowed(ClusterGrant({metrics}), PathRequest("/metrics/extra")));
  // Non-resource rules in a role bound in a namespace never apply.
  RbacPolicy local;
  local.cluster_roles.push_back({"", "r", {metrics}});
  local.role_bindings.push_back({"kube-system", "b", "ClusterRole", "r", {kWeaveSubject}});
  CHECK_FALSE(Allowed(local, PathRequest("/metrics")));
}

TEST_CASE("rbac denial texts are the real server's", "[kube][rbac]") {
  CHECK(ForbiddenText(Request("patch", "nodes/status", "", "n1")) ==
        "User \"system:serviceaccount:kube-system:weave-net\" cannot patch resource "
        "\"nodes/status\" in API group \"\" at the cluster scope");
  CHECK(ForbiddenText(Request("list", "networkpolicies", "kube-system", "", "networking.k8s.io")) ==
        "User \"system:serviceaccount:kube-system:weave-net\" cannot list resource "
        "\"networkpolicies\" in API group \"networking.k8s.io\" in the namespace \"kube-system\"");
  CHECK(ForbiddenText(PathRequest("/_fake/faults")) ==
        "User \"system:serviceaccount:kube-system:weave-net\" cannot get path \"/_fake/faults\"");
}

TEST_CASE("rbac service account users and their names", "[kube][rbac]") {
  CHECK(kWeave.name == "system:serviceaccount:kube-system:weave-net");
  CHECK(kWeave.groups == std::vector<std::string>{"system:serviceaccounts",
                                                  "system:serviceaccounts:kube-system",
                                                  "system:authenticated"});
  std::string ns, name;
  REQUIRE(ParseServiceAccountUser(kWeave.name, &ns, &name));
  CHECK(ns == "kube-system");
  CHECK(name == "weave-net");
  CHECK_FALSE(ParseServiceAccountUser("kubernetes-admin", &ns, &name));
  CHECK_FALSE(ParseServiceAccountUser("system:serviceaccount:kube-system", &ns, &name));
}

}  // namespace
}  // namespace weave::testing::kube
