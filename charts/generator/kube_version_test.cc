#include "charts/generator/kube_version.h"

#include <catch2/catch.hpp>

#include "absl/strings/escaping.h"

namespace weave::charts {
namespace {

// `kubectl version` before 1.28 (client and server) and since (with Kustomize).
constexpr char kOldForm[] =
    "Client Version: version.Info{Major:\"1\", Minor:\"16\", GitVersion:\"v1.16.3\", "
    "GitCommit:\"b3cbbae08ec52a7fc73d334838e18d17e8512749\", GitTreeState:\"clean\", "
    "BuildDate:\"2019-11-13T11:23:11Z\", GoVersion:\"go1.12.12\", Compiler:\"gc\", "
    "Platform:\"linux/amd64\"}\n"
    "Server Version: version.Info{Major:\"1\", Minor:\"18+\", GitVersion:\"v1.18.9-eks-d1db3c\", "
    "GitCommit:\"d1db3c46e55f95d6a7d3e5578689371318f95ff9\", GitTreeState:\"clean\"}\n";
constexpr char kCurrentForm[] =
    "Client Version: v1.29.1\n"
    "Kustomize Version: v5.0.4-0.20230601165947-6ce0bf390ce3\n"
    "Server Version: v1.29.0\n";

TEST_CASE("kubectl version before 1.28 prefers the server's GitVersion", "[charts]") {
  absl::StatusOr<KubeVersion> version = ParseKubectlVersion(kOldForm);
  REQUIRE(version.ok());
  CHECK(*version == KubeVersion{1, 18});
}

TEST_CASE("kubectl version before 1.28 without a server uses the client", "[charts]") {
  absl::StatusOr<KubeVersion> version = ParseKubectlVersion(
      "Client Version: version.Info{Major:\"1\", Minor:\"16\", GitVersion:\"v1.16.3\"}\n"
      "The connection to the server localhost:8080 was refused\n");
  REQUIRE(version.ok());
  CHECK(*version == KubeVersion{1, 16});
}

TEST_CASE("Major and Minor are read when GitVersion is missing", "[charts]") {
  absl::StatusOr<KubeVersion> version =
      ParseKubectlVersion("Server Version: version.Info{Major:\"1\", Minor:\"21+\"}");
  REQUIRE(version.ok());
  CHECK(*version == KubeVersion{1, 21});
}

TEST_CASE("kubectl version since 1.28 prefers the server line", "[charts]") {
  absl::StatusOr<KubeVersion> version = ParseKubectlVersion(kCurrentForm);
  REQUIRE(version.ok());
  CHECK(*version == KubeVersion{1, 29});
  CHECK(ParseKubectlVersion("Client Version: v1.31.2\nKustomize Version: v5.4.2\n").value() ==
        KubeVersion{1, 31});
  // Warnings about version skew and vendor suffixes do not matter.
  CHECK(ParseKubectlVersion("Client Version: v1.32.4-dispatcher\nKustomize Version: v5.5.0\n"
                            "Server Version: v1.27.16+k3s1\n"
                            "WARNING: version difference between client (1.32) and server "
                            "(1.27) exceeds the supported minor version skew of +/-1\n")
            .value() == KubeVersion{1, 27});
}

TEST_CASE("text without a version line is an error", "[charts]") {
  absl::StatusOr<KubeVersion> version = ParseKubectlVersion("error: unknown flag\n");
  REQUIRE_FALSE(version.ok());
  CHECK(version.status().message().find("k8s-version:") == 0);
  CHECK_FALSE(ParseKubectlVersion("Client Version: unknown").ok());
}

TEST_CASE("the parameter is base64 of the output in any common spelling", "[charts]") {
  const std::string encoded = absl::Base64Escape(kCurrentForm);
  CHECK(DecodeKubeVersionParameter(encoded).value() == KubeVersion{1, 29});
  CHECK(DecodeKubeVersionParameter(absl::WebSafeBase64Escape(kOldForm)).value() ==
        KubeVersion{1, 18});
  // A '+' the shell left unencoded in the URL arrives as a space.
  std::string with_plus = absl::Base64Escape(std::string(kOldForm) + ">>>>");
  REQUIRE(with_plus.find('+') != std::string::npos);
  std::string spaced = with_plus;
  for (char& c : spaced) c = c == '+' ? ' ' : c;
  CHECK(DecodeKubeVersionParameter(spaced).value() == KubeVersion{1, 18});
  absl::StatusOr<KubeVersion> bad = DecodeKubeVersionParameter("not*base64");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("k8s-version: not base64") == 0);
}

TEST_CASE("versions order by major then minor", "[charts]") {
  CHECK(KubeVersion{1, 15} < kMinKubeVersion);
  CHECK_FALSE(KubeVersion{1, 16} < kMinKubeVersion);
  CHECK(KubeVersion{1, 9} < KubeVersion{1, 16});
  CHECK(KubeVersion{1, 16}.ToString() == "1.16");
}

}  // namespace
}  // namespace weave::charts
