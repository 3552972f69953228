// Who sends a bearer token, as kube-apiserver's token authenticators answer it. The fake API
// server's own token (FakeApiServerOptions.token, the one in its kubeconfig) is the cluster
// admin, kubernetes-admin in system:masters as kubeadm makes it, which RBAC never restricts
// (rbac.h); more tokens name service accounts (a kubelet's mounted token) or any user.
//
// Thread-safe: tokens are added while the server answers requests (POST /_fake/tokens).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "test/kube/rbac.h"

namespace weave::testing::kube {

// The admin identity of the server's own token.
UserInfo AdminUser();

// "<namespace>/<name>" as that service account's user (ServiceAccountUser); InvalidArgument
// otherwise. The flag --service-account-token TOKEN=<namespace>/<name> and POST /_fake/tokens
// name accounts so.
absl::StatusOr<UserInfo> ParseServiceAccountRef(absl::string_view ref);

class TokenAuthenticator {
 public:
  TokenAuthenticator(std::string admin_token, std::map<std::string, UserInfo> users);

  // Registers (or replaces) `token` as `user`'s. Every user is also in system:authenticated,
  // as the real server's authenticated-group adder makes it. The admin token stays the admin's.
  void Add(const std::string& token, UserInfo user);
  // The user of an Authorization header's value ("Bearer <token>"); nullopt when the header is
  // missing or malformed or the token unknown (the server's 401).
  std::optional<UserInfo> Authenticate(absl::string_view authorization) const;

 private:
  const std::string admin_token_;
  mutable std::mutex mu_;
  std::map<std::string, UserInfo> users_;
};

}  // namespace weave::testing::kube
