#include "test/kube/token_authenticator.h"

#include <catch2/catch.hpp>

#include "test/harness/status_assertions.h"

namespace weave::testing::kube {
namespace {

TEST_CASE("bearer tokens name the admin, service accounts and users", "[kube][rbac]") {
  TokenAuthenticator tokens("admin-token",
                            {{"sa-token", ServiceAccountUser("kube-system", "weave-net")}});
  std::optional<UserInfo> admin = tokens.Authenticate("Bearer admin-token");
  REQUIRE(admin);
  CHECK(admin->name == "kubernetes-admin");
  CHECK(admin->groups == std::vector<std::string>{"system:masters", "system:authenticated"});

  std::optional<UserInfo> weave = tokens.Authenticate("Bearer sa-token");
  REQUIRE(weave);
  CHECK(weave->name == "system:serviceaccount:kube-system:weave-net");

  tokens.Add("alice-token", {"alice", {"devs"}});
  std::optional<UserInfo> alice = tokens.Authenticate("Bearer alice-token");
  REQUIRE(alice);
  CHECK(alice->groups == std::vector<std::string>{"devs", "system:authenticated"});

  for (const char* header :
       {"", "Bearer ", "Bearer unknown", "Basic YWRtaW46YWRtaW4=", "admin-token"}) {
    INFO(header);
    CHECK_FALSE(tokens.Authenticate(header));
  }
}

TEST_CASE("service accounts are named namespace slash name", "[kube][rbac]") {
  ASSIGN_OR_REQUIRE(UserInfo user, ParseServiceAccountRef("kube-system/weave-net"));
  CHECK(user.name == "system:serviceaccount:kube-system:weave-net");
  for (const char* bad : {"", "weave-net", "/weave-net", "kube-system/", "a/b/c"}) {
    INFO(bad);
    CHECK(ParseServiceAccountRef(bad).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace weave::testing::kube
