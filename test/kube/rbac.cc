#include "test/kube/rbac.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace weave::testing::kube {
namespace {

constexpr absl::string_view kServiceAccountPrefix = "system:serviceaccount:";
constexpr absl::string_view kAll = "*";

bool Contains(const std::vector<std::string>& values, absl::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

bool ContainsOrAll(const std::vector<std::string>& values, absl::string_view value) {
  return Contains(values, kAll) || Contains(values, value);
}

// "nodes/status", or "nodes" for the main resource.
std::string CombinedResource(const RequestAttributes& request) {
  if (request.subresource.empty()) return request.resource;
  return absl::StrCat(request.resource, "/", request.subresource);
}

bool ResourceMatches(const PolicyRule& rule, const RequestAttributes& request) {
  const std::string combined = CombinedResource(request);
  for (const std::string& resource : rule.resources) {
    if (resource == kAll || resource == combined) return true;
    if (!request.subresource.empty() && resource == absl::StrCat("*/", request.subresource)) {
      return true;
    }
  }
  return false;
}

bool ResourceNameMatches(const PolicyRule& rule, const RequestAttributes& request) {
  return rule.resource_names.empty() || Contains(rule.resource_names, request.name);
}

bool NonResourceUrlMatches(const PolicyRule& rule, absl::string_view path) {
  for (absl::string_view url : rule.non_resource_urls) {
    if (url == kAll || url == path) return true;
    if (absl::ConsumeSuffix(&url, "*") && absl::StartsWith(path, url)) return true;
  }
  return false;
}

// `binding_ns` defaults a ServiceAccount subject's namespace ("" for ClusterRoleBindings).
bool AppliesTo(const Subject& subject, const UserInfo& user, absl::string_view binding_ns) {
  if (subject.kind == "User") return subject.name == user.name;
  if (subject.kind == "Group") return Contains(user.groups, subject.name);
  if (subject.kind == "ServiceAccount") {
    const std::string ns = subject.ns.empty() ? std::string(binding_ns) : subject.ns;
    return !ns.empty() && user.name == absl::StrCat(kServiceAccountPrefix, ns, ":", subject.name);
  }
  return false;
}

const Subject* FindSubject(const RoleBinding& binding, const UserInfo& user) {
  for (const Subject& subject : binding.subjects) {
    if (AppliesTo(subject, user, binding.ns)) return &subject;
  }
  return nullptr;
}

const Role* FindRole(const std::vector<Role>& roles, absl::string_view ns, absl::string_view name) {
  for (const Role& role : roles) {
    if (role.ns == ns && role.name == name) return &role;
  }
  return nullptr;
}

// The role a binding refers to, or the error the real resolver reports.
const Role* ResolveRole(const RbacPolicy& policy, const RoleBinding& binding, std::string* error) {
  const Role* role = nullptr;
  if (binding.role_kind == "ClusterRole") {
    role = FindRole(policy.cluster_roles, "", binding.role_name);
    if (role == nullptr) {
      *error = absl::StrCat("clusterrole.rbac.authorization.k8s.io \"", binding.role_name,
                            "\" not found");
    }
  } else if (binding.role_kind == "Role") {
    role = FindRole(policy.roles, binding.ns, binding.role_name);
    if (role == nullptr) {
      *error = absl::StrCat("role.rbac.authorization.k8s.io \"", binding.role_name, "\" not found");
    }
  } else {
    *error = absl::StrCat("unsupported role reference kind: \"", binding.role_kind, "\"");
  }
  return role;
}

std::string DescribeSubject(const Subject& subject, absl::string_view binding_ns) {
  if (subject.kind != "ServiceAccount")
    return absl::StrCat(subject.kind, " \"", subject.name, "\"");
  return absl::StrCat(subject.kind, " \"", subject.name, "/",
                      subject.ns.empty() ? binding_ns : subject.ns, "\"");
}

std::string DescribeGrant(const RoleBinding& binding, const Subject& subject) {
  const std::string what =
      binding.ns.empty() ? absl::StrCat("ClusterRoleBinding \"", binding.name, "\"")
                         : absl::StrCat("RoleBinding \"", binding.name, "/", binding.ns, "\"");
  return absl::StrCat("RBAC: allowed by ", what, " of ", binding.role_kind, " \"",
                      binding.role_name, "\" to ", DescribeSubject(subject, binding.ns));
}

// Whether the bindings grant the request; errors of bindings to missing roles are collected.
bool Grants(const RbacPolicy& policy, const std::vector<RoleBinding>& bindings,
            const RequestAttributes& request, std::vector<std::string>& errors,
            std::string& reason) {
  for (const RoleBinding& binding : bindings) {
    const Subject* subject = FindSubject(binding, request.user);
    if (subject == nullptr) continue;
    std::string error;
    const Role* role = ResolveRole(policy, binding, &error);
    if (role == nullptr) {
      errors.push_back(error);
      continue;
    }
    for (const PolicyRule& rule : role->rules) {
      if (RuleAllows(rule, request)) {
        reason = DescribeGrant(binding, *subject);
        return true;
      }
    }
  }
  return false;
}

}  // namespace

UserInfo ServiceAccountUser(absl::string_view ns, absl::string_view name) {
  return {absl::StrCat(kServiceAccountPrefix, ns, ":", name),
          {"system:serviceaccounts", absl::StrCat("system:serviceaccounts:", ns),
           "system:authenticated"}};
}

bool ParseServiceAccountUser(absl::string_view user_name, std::string* ns, std::string* name) {
  if (!absl::ConsumePrefix(&user_name, kServiceAccountPrefix)) return false;
  std::vector<std::string> parts = absl::StrSplit(user_name, ':');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) return false;
  *ns = parts[0];
  *name = parts[1];
  return true;
}

RbacPolicy BootstrapPolicy() {
  RbacPolicy policy;
  PolicyRule discovery;
  discovery.verbs = {"get"};
  discovery.non_resource_urls = {"/api",     "/api/*",     "/apis",    "/apis/*",
                                 "/openapi", "/openapi/*", "/version", "/version/",
                                 "/healthz", "/livez",     "/readyz"};
  policy.cluster_roles.push_back({"", "system:discovery", {discovery}});
  policy.cluster_role_bindings.push_back({"",
                                          "system:discovery",
                                          "ClusterRole",
                                          "system:discovery",
                                          {{"Group", "system:authenticated", ""}}});
  return policy;
}

bool RuleAllows(const PolicyRule& rule, const RequestAttributes& request) {
  if (!ContainsOrAll(rule.verbs, request.verb)) return false;
  if (!request.resource_request) return NonResourceUrlMatches(rule, request.path);
  return ContainsOrAll(rule.api_groups, request.api_group) && ResourceMatches(rule, request) &&
         ResourceNameMatches(rule, request);
}

Decision Authorize(const RbacPolicy& policy, const RequestAttributes& request) {
  if (Contains(request.user.groups, kPrivilegedGroup)) return {true, ""};
  std::vector<std::string> errors;
  std::string reason;
  if (Grants(policy, policy.cluster_role_bindings, request, errors, reason)) return {true, reason};
  if (!request.ns.empty()) {
    std::vector<RoleBinding> in_namespace;
    for (const RoleBinding& binding : policy.role_bindings) {
      if (binding.ns == request.ns) in_namespace.push_back(binding);
    }
    if (Grants(policy, in_namespace, request, errors, reason)) return {true, reason};
  }
  if (errors.empty()) return {false, ""};
  // utilerrors.NewAggregate's text: one error alone, several in brackets.
  const std::string joined =
      errors.size() == 1 ? errors.front() : absl::StrCat("[", absl::StrJoin(errors, ", "), "]");
  return {false, absl::StrCat("RBAC: ", joined)};
}

std::string ForbiddenText(const RequestAttributes& request) {
  const std::string user = absl::StrCat("User \"", request.user.name, "\" cannot ", request.verb);
  if (!request.resource_request) return absl::StrCat(user, " path \"", request.path, "\"");
  const std::string scope = request.ns.empty()
                                ? std::string("at the cluster scope")
                                : absl::StrCat("in the namespace \"", request.ns, "\"");
  return absl::StrCat(user, " resource \"", CombinedResource(request), "\" in API group \"",
                      request.api_group, "\" ", scope);
}

}  // namespace weave::testing::kube
