#include "test/kube/rbac_objects.h"

#include <cstdio>
#include <cstdlib>

#include "test/kube/object_meta.h"

namespace weave::testing::kube {

using nlohmann::json;

namespace {

constexpr const char* kGroup = "rbac.authorization.k8s.io";

std::vector<std::string> Strings(const json& object, const char* field) {
  std::vector<std::string> values;
  if (!object.is_object() || !object.contains(field) || !object[field].is_array()) return values;
  for (const json& value : object[field]) {
    if (value.is_string()) values.push_back(value.get<std::string>());
  }
  return values;
}

const json& Field(const json& object, const char* field) {
  static const json* const kNull = new json();
  if (!object.is_object()) return *kNull;
  auto it = object.find(field);
  return it == object.end() ? *kNull : *it;
}

PolicyRule RuleFromObject(const json& rule) {
  return {Strings(rule, "verbs"), Strings(rule, "apiGroups"), Strings(rule, "resources"),
          Strings(rule, "resourceNames"), Strings(rule, "nonResourceURLs")};
}

// The items of every object of `plural` in the store.
json Items(const Store& store, const char* plural) {
  absl::StatusOr<json> list = store.List(*FindResource(kGroup, "v1", plural), "", ListOptions{});
  if (!list.ok()) {  // a LIST of the current state with no selector or limit cannot fail
    std::fprintf(stderr, "fake-apiserver: listing %s: %s\n", plural,
                 list.status().ToString().c_str());
    std::abort();
  }
  return (*list)["items"];
}

}  // namespace

Role RoleFromObject(const json& object) {
  Role role{MetaString(object, "namespace"), MetaString(object, "name"), {}};
  const json& rules = Field(object, "rules");
  if (rules.is_array()) {
    for (const json& rule : rules) role.rules.push_back(RuleFromObject(rule));
  }
  return role;
}

RoleBinding BindingFromObject(const json& object) {
  const json& role_ref = Field(object, "roleRef");
  RoleBinding binding{MetaString(object, "namespace"),
                      MetaString(object, "name"),
                      StringField(role_ref, "kind"),
                      StringField(role_ref, "name"),
                      {}};
  const json& subjects = Field(object, "subjects");
  if (subjects.is_array()) {
    for (const json& subject : subjects) {
      binding.subjects.push_back({StringField(subject, "kind"), StringField(subject, "name"),
                                  StringField(subject, "namespace")});
    }
  }
  return binding;
}

RbacPolicy StoredPolicy(const Store& store) {
  RbacPolicy policy = BootstrapPolicy();
  for (const json& object : Items(store, "clusterroles")) {
    policy.cluster_roles.push_back(RoleFromObject(object));
  }
  for (const json& object : Items(store, "roles")) policy.roles.push_back(RoleFromObject(object));
  for (const json& object : Items(store, "clusterrolebindings")) {
    policy.cluster_role_bindings.push_back(BindingFromObject(object));
  }
  for (const json& object : Items(store, "rolebindings")) {
    policy.role_bindings.push_back(BindingFromObject(object));
  }
  return policy;
}

}  // namespace weave::testing::kube
