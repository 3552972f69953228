// The RBAC objects a store holds (rbac.authorization.k8s.io/v1 ClusterRole, ClusterRoleBinding,
// Role, RoleBinding, as clients create them) read as the authorizer's values (rbac.h).
//
// Reading is lenient, as the authorizer sees whatever the registry accepted: a missing or
// mistyped field reads as empty, so a rule without verbs allows nothing and a binding without a
// roleRef grants nothing (its "unsupported role reference kind" shows in the 403's reason).
#pragma once

#include "nlohmann/json.hpp"
#include "test/kube/rbac.h"
#include "test/kube/store.h"

namespace weave::testing::kube {

// A ClusterRole or Role object.
Role RoleFromObject(const nlohmann::json& object);
// A ClusterRoleBinding or RoleBinding object.
RoleBinding BindingFromObject(const nlohmann::json& object);

// The store's RBAC objects now, with BootstrapPolicy() added.
RbacPolicy StoredPolicy(const Store& store);

}  // namespace weave::testing::kube
