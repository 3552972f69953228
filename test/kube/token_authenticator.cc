#include "test/kube/token_authenticator.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace weave::testing::kube {
namespace {

constexpr absl::string_view kAuthenticated = "system:authenticated";

UserInfo WithAuthenticatedGroup(UserInfo user) {
  if (std::find(user.groups.begin(), user.groups.end(), kAuthenticated) == user.groups.end()) {
    user.groups.emplace_back(kAuthenticated);
  }
  return user;
}

}  // namespace

UserInfo AdminUser() {
  return {"kubernetes-admin", {std::string(kPrivilegedGroup), std::string(kAuthenticated)}};
}

absl::StatusOr<UserInfo> ParseServiceAccountRef(absl::string_view ref) {
  std::vector<std::string> parts = absl::StrSplit(ref, '/');
  if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a service account is <namespace>/<name> (\"kube-system/weave-net\"), not \"", ref, "\""));
  }
  return ServiceAccountUser(parts[0], parts[1]);
}

TokenAuthenticator::TokenAuthenticator(std::string admin_token,
                                       std::map<std::string, UserInfo> users)
    : admin_token_(std::move(admin_token)) {
  for (auto& [token, user] : users) Add(token, std::move(user));
}

void TokenAuthenticator::Add(const std::string& token, UserInfo user) {
  std::lock_guard<std::mutex> lock(mu_);
  users_[token] = WithAuthenticatedGroup(std::move(user));
}

std::optional<UserInfo> TokenAuthenticator::Authenticate(absl::string_view authorization) const {
  absl::string_view token = authorization;
  if (!absl::ConsumePrefix(&token, "Bearer ") || token.empty()) return std::nullopt;
  if (token == admin_token_) return AdminUser();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = users_.find(std::string(token));
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

}  // namespace weave::testing::kube
