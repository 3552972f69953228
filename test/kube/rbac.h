// The RBAC authorizer of kube-apiserver (--authorization-mode=RBAC) as pure logic over values:
// roles, bindings and one request's attributes in, allowed or denied with a reason out. The fake
// API server runs it on every request when enabled, so that a manifest missing a grant fails a
// test the way it fails on a real cluster.
//
// The semantics follow k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac:
//   - a request is allowed when any rule of any role bound to the user allows it; there are no
//     deny rules, and a binding to a missing role grants nothing (its error becomes the reason);
//   - ClusterRoleBindings grant their ClusterRole everywhere; RoleBindings grant their Role or
//     ClusterRole only in the binding's namespace (so never cluster-scoped requests);
//   - rule matching: verbs and apiGroups are exact or "*"; resources are exact ("nodes" does
//     not cover "nodes/status"), "*" (covers subresources), or "*/<subresource>";
//     resourceNames, when present, require the request to name an object, so a LIST, WATCH or
//     CREATE of the collection never matches (a LIST or WATCH with fieldSelector
//     metadata.name=<n> names <n>, as the real request parser sets it);
//   - non-resource requests (/api, /version, ...) match nonResourceURLs rules ("/apis/*" is a
//     prefix) of ClusterRoles bound by ClusterRoleBindings only;
//   - subjects: User by name, Group by any of the user's groups, ServiceAccount by the
//     "system:serviceaccount:<ns>:<name>" user name (a RoleBinding's subject without a
//     namespace means the binding's);
//   - members of the group system:masters may do anything, before RBAC is asked, as the real
//     server's privileged-group authorizer lets them.
// Not modelled: aggregated ClusterRoles (aggregationRule), impersonation, the Node authorizer.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace weave::testing::kube {

// Who made a request, as the authenticator found it.
struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
};

// The identity the real token authenticator gives a service account's token: the user
// system:serviceaccount:<ns>:<name> in system:serviceaccounts, system:serviceaccounts:<ns> and
// system:authenticated.
UserInfo ServiceAccountUser(absl::string_view ns, absl::string_view name);
// Whether `user_name` is a service account's; sets `ns` and `name` if so.
bool ParseServiceAccountUser(absl::string_view user_name, std::string* ns, std::string* name);

inline constexpr absl::string_view kPrivilegedGroup = "system:masters";

// What the authorizer sees of a request (authorizer.Attributes).
struct RequestAttributes {
  UserInfo user;
  std::string verb;  // get list watch create update patch delete deletecollection; for
                     // non-resource requests the lowercase HTTP method
  bool resource_request = false;
  std::string api_group;    // "" for the core group
  std::string resource;     // "nodes"
  std::string subresource;  // "status" or ""
  std::string ns;           // "" for cluster-scoped requests and lists across namespaces
  std::string name;         // "" when the request names no object
  std::string path;         // the URL path (what non-resource rules match)
};

struct PolicyRule {
  std::vector<std::string> verbs;
  std::vector<std::string> api_groups;
  std::vector<std::string> resources;
  std::vector<std::string> resource_names;
  std::vector<std::string> non_resource_urls;
};

// A Role (ns set) or a ClusterRole (ns empty).
struct Role {
  std::string ns;
  std::string name;
  std::vector<PolicyRule> rules;
};

struct Subject {
  std::string kind;  // "User", "Group" or "ServiceAccount"
  std::string name;
  std::string ns;  // ServiceAccount only
};

// A RoleBinding (ns set) or a ClusterRoleBinding (ns empty).
struct RoleBinding {
  std::string ns;
  std::string name;
  std::string role_kind;  // "Role" or "ClusterRole"
  std::string role_name;
  std::vector<Subject> subjects;
};

struct RbacPolicy {
  std::vector<Role> cluster_roles;
  std::vector<Role> roles;
  std::vector<RoleBinding> cluster_role_bindings;
  std::vector<RoleBinding> role_bindings;
};

// The part of the real server's bootstrap policy that every client depends on: ClusterRole
// system:discovery (GET of /api, /apis, /version, /openapi and the health paths) bound to
// system:authenticated. Real clusters create it at startup; the fake adds it to the stored
// objects when authorizing instead of storing it, so existing stores and lists are unchanged.
RbacPolicy BootstrapPolicy();

struct Decision {
  bool allowed = false;
  // Allowed: which binding and role allowed it ("RBAC: allowed by ClusterRoleBinding ...").
  // Denied: "" or, as the real authorizer, the errors met on the way ("RBAC: clusterrole...
  // \"weave-net\" not found"), which the 403 message carries after the attributes.
  std::string reason;
};

Decision Authorize(const RbacPolicy& policy, const RequestAttributes& request);

// Whether one rule allows the request (rbac.RuleAllows), exposed for tests of rule semantics.
bool RuleAllows(const PolicyRule& rule, const RequestAttributes& request);

// The real server's text for a denial, without the "<resource> \"<name>\" is forbidden: "
// prefix: `User "u" cannot patch resource "nodes/status" in API group "" at the cluster scope`,
// `... in the namespace "kube-system"`, or `User "u" cannot get path "/foo"`.
std::string ForbiddenText(const RequestAttributes& request);

}  // namespace weave::testing::kube
