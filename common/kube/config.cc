#include "common/kube/config.h"

#include <cstdlib>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/kube/file.h"
#include "common/status_macros.h"

namespace weave::kube {

namespace {

std::string GetEnv(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

}  // namespace

Environment Environment::FromProcess() {
  return {GetEnv("KUBERNETES_SERVICE_HOST"), GetEnv("KUBERNETES_SERVICE_PORT"),
          GetEnv("KUBECONFIG")};
}

absl::StatusOr<Config> InClusterConfig(const Environment& env, const std::string& sa_dir) {
  if (env.kubernetes_service_host.empty() || env.kubernetes_service_port.empty()) {
    return absl::FailedPreconditionError(
        "in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not "
        "set (not in a pod? pass --kubeconfig)");
  }
  Config config;
  const std::string& host = env.kubernetes_service_host;
  config.server =
      absl::StrCat("https://", absl::StrContains(host, ':') ? "[" : "", host,
                   absl::StrContains(host, ':') ? "]" : "", ":", env.kubernetes_service_port);
  ASSIGN_OR_RETURN(config.ca_pem, ReadSmallFile(sa_dir + "/ca.crt", "service-account CA"));
  auto token = std::make_shared<FileToken>(sa_dir + "/token");
  RETURN_IF_ERROR(token->Token().status());
  config.token = std::move(token);
  if (absl::StatusOr<std::string> ns = ReadSmallFile(sa_dir + "/namespace", "namespace"); ns.ok()) {
    config.default_namespace = std::string(absl::StripAsciiWhitespace(*ns));
  }
  return config;
}

absl::StatusOr<Config> LoadConfig(const std::string& kubeconfig_flag, const Environment& env,
                                  const std::string& sa_dir) {
  if (!kubeconfig_flag.empty()) return KubeconfigConfig(kubeconfig_flag);
  std::vector<std::string> listed = absl::StrSplit(env.kubeconfig, ':', absl::SkipEmpty());
  if (!listed.empty()) return KubeconfigConfig(listed.front());
  return InClusterConfig(env, sa_dir);
}

}  // namespace weave::kube
