#include "charts/generator/params.h"

#include <catch2/catch.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"

namespace weave::charts {
namespace {

// The error message of a query that must fail.
std::string ErrorOf(const std::string& query) {
  absl::StatusOr<ManifestParams> params = ParseQuery(query);
  REQUIRE_FALSE(params.ok());
  CHECK(params.status().code() == absl::StatusCode::kInvalidArgument);
  const std::string message(params.status().message());
  CHECK(message.find('\n') == std::string::npos);  // one line
  return message;
}

ManifestParams Parse(const std::string& query) {
  absl::StatusOr<ManifestParams> params = ParseQuery(query);
  INFO(query << ": " << params.status().message());
  REQUIRE(params.ok());
  return *params;
}

TEST_CASE("no parameters give the defaults", "[charts]") {
  ManifestParams params = Parse("");
  CHECK_FALSE(params.kube_version.has_value());
  CHECK(params.registry == "localhost");
  CHECK(params.image_tag == WEAVE_VERSION);
  CHECK(params.password_secret.empty());
  CHECK(params.known_peers.empty());
  CHECK(params.trusted_subnets.empty());
  CHECK_FALSE(params.disable_npc);
  CHECK_FALSE(params.use_legacy_netpol);
  CHECK(params.env.empty());
  CHECK(params.se_linux_options.empty());
  CHECK(Parse("?").registry == "localhost");
}

TEST_CASE("each parameter is read", "[charts]") {
  ManifestParams params = Parse(
      "version=2.8.1&registry=registry.example:5000/team&password-secret=weave-passwd"
      "&known-peers=10.0.0.1,+node-2:6783,&trusted-subnets=10.0.0.0/8,192.168.0.0%2F16"
      "&disable-npc=true&use-legacy-netpol=true&env.WEAVE_MTU=1337&env.CONN_LIMIT=10"
      "&seLinuxOptions.type=spc_t&seLinuxOptions.level=s0:c1");
  CHECK(params.image_tag == "2.8.1");
  CHECK(params.registry == "registry.example:5000/team");
  CHECK(params.password_secret == "weave-passwd");
  CHECK(params.known_peers == std::vector<std::string>{"10.0.0.1", "node-2:6783"});
  CHECK(params.trusted_subnets == std::vector<std::string>{"10.0.0.0/8", "192.168.0.0/16"});
  CHECK(params.disable_npc);
  CHECK(params.use_legacy_netpol);
  CHECK(params.env == std::vector<EnvVar>{{"WEAVE_MTU", "1337"}, {"CONN_LIMIT", "10"}});
  CHECK(params.se_linux_options ==
        std::vector<std::pair<std::string, std::string>>{{"type", "spc_t"}, {"level", "s0:c1"}});
  CHECK_FALSE(Parse("disable-npc=false&use-legacy-netpol=false").disable_npc);
}

TEST_CASE("k8s-version accepts both kubectl forms and refuses Kubernetes before 1.16", "[charts]") {
  const std::string current = absl::Base64Escape(
      "Client Version: v1.29.1\nKustomize Version: v5.0.4\nServer Version: v1.29.0\n");
  CHECK(Parse("k8s-version=" + current).kube_version == KubeVersion{1, 29});
  const std::string old = absl::Base64Escape(
      "Client Version: version.Info{Major:\"1\", Minor:\"16\", GitVersion:\"v1.16.3\"}\n"
      "Server Version: version.Info{Major:\"1\", Minor:\"16\", GitVersion:\"v1.16.3\"}\n");
  CHECK(Parse("k8s-version=" + old).kube_version == KubeVersion{1, 16});

  const std::string too_old = absl::Base64Escape(
      "Client Version: version.Info{Major:\"1\", Minor:\"15\", GitVersion:\"v1.15.12\"}\n"
      "Server Version: version.Info{Major:\"1\", Minor:\"15\", GitVersion:\"v1.15.12\"}\n");
  CHECK(ErrorOf("k8s-version=" + too_old) ==
        "k8s-version: Kubernetes 1.15 is not supported: this manifest needs Kubernetes 1.16 or "
        "later");
  CHECK(absl::StartsWith(ErrorOf("k8s-version=" + absl::Base64Escape("Client Version: v1.6.0")),
                         "k8s-version: Kubernetes 1.6 is not supported"));
  CHECK(absl::StartsWith(ErrorOf("k8s-version=%%%"), "the query has a malformed percent-escape"));
  CHECK(absl::StartsWith(ErrorOf("k8s-version=@@@"), "k8s-version: not base64"));
  CHECK(absl::StartsWith(ErrorOf("k8s-version=" + absl::Base64Escape("hello")),
                         "k8s-version: no \"Server Version:\""));
}

TEST_CASE("unknown and repeated parameters are refused", "[charts]") {
  CHECK(ErrorOf("verison=1") ==
        "unknown parameter \"verison\" (known: k8s-version, version, registry, password-secret, "
        "known-peers, trusted-subnets, disable-npc, use-legacy-netpol, env.NAME, "
        "seLinuxOptions.NAME)");
  CHECK(ErrorOf("version=1&version=2") == "parameter \"version\" is given twice");
  CHECK(ErrorOf("env.WEAVE_MTU=1&env.WEAVE_MTU=2") == "parameter \"env.WEAVE_MTU\" is given twice");
}

TEST_CASE("malformed values are refused with the parameter named", "[charts]") {
  CHECK(ErrorOf("disable-npc=yes") == "disable-npc: \"yes\" is not valid: expected true or false");
  CHECK(ErrorOf("disable-npc") == "disable-npc: \"\" is not valid: expected true or false");
  CHECK(absl::StartsWith(ErrorOf("use-legacy-netpol=1"), "use-legacy-netpol: \"1\" is not valid"));
  CHECK(absl::StartsWith(ErrorOf("version=latest:x"), "version: \"latest:x\" is not valid"));
  CHECK(absl::StartsWith(ErrorOf("version="), "version: \"\" is not valid"));
  CHECK(absl::StartsWith(ErrorOf("registry=a//b"), "registry: \"a//b\" is not valid"));
  CHECK(absl::StartsWith(ErrorOf("password-secret=Weave_Passwd"),
                         "password-secret: \"Weave_Passwd\" is not valid"));
  CHECK(ErrorOf("env.1X=1") ==
        "env.1X: \"1X\" is not an environment variable name (letters, digits, _)");
  CHECK(ErrorOf("env.=1") == "env.: \"\" is not an environment variable name (letters, digits, _)");
  CHECK(ErrorOf("env.HOSTNAME=x") ==
        "env.HOSTNAME: HOSTNAME is set by the manifest itself and cannot be changed");
  CHECK(
      ErrorOf("seLinuxOptions.kind=x") ==
      "seLinuxOptions.kind: seLinuxOptions has no field \"kind\" (it has user, role, type, level)");
  CHECK(
      absl::StartsWith(ErrorOf("seLinuxOptions.type="), "seLinuxOptions.type: \"\" is not valid"));
  CHECK(absl::StartsWith(ErrorOf("env.X=%0A"), "the query holds a control or non-ASCII character"));
  CHECK(absl::StartsWith(ErrorOf("env.X=%C3%A9"), "the query holds a control or non-ASCII"));
  CHECK(absl::StartsWith(ErrorOf("env.X=%4"), "the query has a malformed percent-escape"));
}

TEST_CASE("a variable set by a parameter and by env.NAME is refused", "[charts]") {
  CHECK(ErrorOf("known-peers=a&env.KUBE_PEERS=b") ==
        "known-peers and env.KUBE_PEERS set the same variable: give one of them");
  CHECK(absl::StartsWith(ErrorOf("env.WEAVE_TRUSTED_SUBNETS=10.0.0.0/8&trusted-subnets=10.0.0.0/8"),
                         "trusted-subnets and env.WEAVE_TRUSTED_SUBNETS"));
  CHECK(absl::StartsWith(ErrorOf("password-secret=s&env.WEAVE_PASSWORD=p"),
                         "password-secret and env.WEAVE_PASSWORD"));
  CHECK(ErrorOf("disable-npc=true&env.EXPECT_NPC=1") ==
        "disable-npc=true and env.EXPECT_NPC=1 contradict each other: without weave-npc the "
        "router must not wait for it");
  CHECK(Parse("disable-npc=true&env.EXPECT_NPC=0").disable_npc);
  // An empty list sets nothing, so it cannot conflict.
  CHECK(Parse("known-peers=&env.KUBE_PEERS=b").known_peers.empty());
}

}  // namespace
}  // namespace weave::charts
