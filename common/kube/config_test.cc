#include "common/kube/config.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_replace.h"
#include "ipam/testing/temp_dir.h"

namespace weave::kube {
namespace {

using ipam::testing::TempDir;

constexpr char kCaPem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string TokenOf(const Config& config) {
  REQUIRE(config.token != nullptr);
  return config.token->Token().value();
}

TEST_CASE("in-cluster configuration comes from the service-account directory", "[kube]") {
  TempDir dir;
  Write(dir.File("ca.crt"), kCaPem);
  Write(dir.File("token"), "sa-token\n");
  Write(dir.File("namespace"), "weave\n");
  Environment env{.kubernetes_service_host = "10.96.0.1", .kubernetes_service_port = "443"};
  absl::StatusOr<Config> config = InClusterConfig(env, dir.path());
  REQUIRE(config.ok());
  CHECK(config->server == "https://10.96.0.1:443");
  CHECK(config->ca_pem == kCaPem);
  CHECK(config->default_namespace == "weave");
  CHECK(TokenOf(*config) == "sa-token");
  // The token rotates.
  Write(dir.File("token"), "rotated-token");
  CHECK(TokenOf(*config) == "rotated-token");

  env.kubernetes_service_host = "fd00::1";
  CHECK(InClusterConfig(env, dir.path())->server == "https://[fd00::1]:443");
}

TEST_CASE("in-cluster configuration fails in one line when a piece is missing", "[kube]") {
  TempDir dir;
  Environment env{.kubernetes_service_host = "10.96.0.1", .kubernetes_service_port = "443"};
  CHECK(InClusterConfig(Environment{}, dir.path())
            .status()
            .message()
            .find("KUBERNETES_SERVICE_HOST") != absl::string_view::npos);
  absl::Status no_ca = InClusterConfig(env, dir.path()).status();
  CHECK(no_ca.message().find(dir.File("ca.crt")) != absl::string_view::npos);
  Write(dir.File("ca.crt"), kCaPem);
  absl::Status no_token = InClusterConfig(env, dir.path()).status();
  CHECK(no_token.message().find(dir.File("token")) != absl::string_view::npos);
  Write(dir.File("token"), "t");
  CHECK(InClusterConfig(env, dir.path()).ok());  // the namespace file is optional
}

constexpr char kKubeconfig[] = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: other
  cluster:
    server: https://other:6443
- name: dev-cluster
  cluster:
    server: https://127.0.0.1:6443/
    CA_LINE
contexts:
- name: prod
  context: {cluster: other, user: nobody}
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
    namespace: kube-system
users:
- name: dev-user
  user:
    USER_LINE
)";

std::string Kubeconfig(const std::string& ca_line, const std::string& user_line) {
  return absl::StrReplaceAll(kKubeconfig, {{"CA_LINE", ca_line}, {"USER_LINE", user_line}});
}

TEST_CASE("a kubeconfig's current context gives server, CA and token", "[kube]") {
  TempDir dir;
  Write(dir.File("ca.pem"), kCaPem);
  Write(dir.File("token-file"), "file-token\n");
  const std::string path = dir.File("config");

  SECTION("inline CA data and token") {
    Write(path, Kubeconfig("certificate-authority-data: " + absl::Base64Escape(kCaPem),
                           "token: inline-token"));
    absl::StatusOr<Config> config = KubeconfigConfig(path);
    REQUIRE(config.ok());
    CHECK(config->server == "https://127.0.0.1:6443");
    CHECK(config->ca_pem == kCaPem);
    CHECK(config->default_namespace == "kube-system");
    CHECK(TokenOf(*config) == "inline-token");
    CHECK(config->client_cert_pem.empty());
  }
  SECTION("CA file and token file, relative to the kubeconfig") {
    Write(path, Kubeconfig("certificate-authority: ca.pem", "tokenFile: token-file"));
    absl::StatusOr<Config> config = KubeconfigConfig(path);
    REQUIRE(config.ok());
    CHECK(config->ca_pem == kCaPem);
    CHECK(TokenOf(*config) == "file-token");
    Write(dir.File("token-file"), "rotated");
    CHECK(TokenOf(*config) == "rotated");
  }
  SECTION("client certificate data, no CA (the system's)") {
    Write(path, Kubeconfig("", "client-certificate-data: " + absl::Base64Escape("CERT") +
                                   "\n    client-key: " + dir.File("ca.pem")));
    absl::StatusOr<Config> config = KubeconfigConfig(path);
    REQUIRE(config.ok());
    CHECK(config->ca_pem.empty());
    CHECK(config->client_cert_pem == "CERT");
    CHECK(config->client_key_pem == kCaPem);
    CHECK(config->token == nullptr);
  }
}

TEST_CASE("bad kubeconfigs are one-line errors naming the file", "[kube]") {
  TempDir dir;
  const std::string path = dir.File("config");
  struct Case {
    std::string text;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", "not a kubeconfig"},
      {"- a\n- b\n", "not a kubeconfig"},
      {"current-context: [\n", "yaml-cpp: error at line"},
      {"kind: Config\n", "no current-context"},
      {"current-context: x\n", "context \"x\" not found in contexts"},
      {"current-context: {a: b}\n", "current-context is not a string"},
      {"current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n",
       "cluster \"c\" not found in clusters"},
      {"current-context: x\ncontexts: [{name: x, context: 7}]\n", "context \"x\" is not a mapping"},
      {Kubeconfig("insecure-skip-tls-verify: true", "token: t"), "insecure-skip-tls-verify"},
      {Kubeconfig("certificate-authority-data: '!!!'", "token: t"), "not base64"},
      {Kubeconfig("certificate-authority: missing.pem", "token: t"), "missing.pem"},
      {Kubeconfig("", "exec: {command: aws}"), "exec is not supported"},
      {Kubeconfig("", "tokenFile: /nonexistent/token"), "/nonexistent/token"},
      {Kubeconfig("", "client-certificate-data: Q0VSVA=="), "needs both"},
      {absl::StrReplaceAll(Kubeconfig("", "token: t"), {{"https://127", "http://127"}}),
       "is not https://"},
      {absl::StrReplaceAll(Kubeconfig("", "token: t"), {{"server: https://127.0.0.1:6443/", ""}}),
       "no server"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    Write(path, c.text);
    absl::Status status = KubeconfigConfig(path).status();
    CHECK_FALSE(status.ok());
    CHECK(status.message().find("kubeconfig " + path + ": ") == 0);
    CHECK(status.message().find(c.error) != absl::string_view::npos);
    CHECK(status.message().find('\n') == absl::string_view::npos);
  }
  absl::Status missing = KubeconfigConfig(dir.File("nope")).status();
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK(missing.message().find(dir.File("nope")) != absl::string_view::npos);
}

TEST_CASE("LoadConfig prefers the flag, then KUBECONFIG, then in-cluster", "[kube]") {
  TempDir dir;
  Write(dir.File("a"), Kubeconfig("", "token: from-a"));
  Write(dir.File("b"), Kubeconfig("", "token: from-b"));
  Write(dir.File("ca.crt"), kCaPem);
  Write(dir.File("token"), "from-pod");
  Environment env{.kubernetes_service_host = "10.96.0.1",
                  .kubernetes_service_port = "443",
                  .kubeconfig = dir.File("b") + ":" + dir.File("a")};
  CHECK(TokenOf(*LoadConfig(dir.File("a"), env, dir.path())) == "from-a");
  CHECK(TokenOf(*LoadConfig("", env, dir.path())) == "from-b");
  env.kubeconfig = "";
  CHECK(TokenOf(*LoadConfig("", env, dir.path())) == "from-pod");
}

}  // namespace
}  // namespace weave::kube
