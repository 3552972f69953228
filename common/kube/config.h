// How to reach the API server: in a pod (the service-account directory and the
// KUBERNETES_SERVICE_* variables) or from a kubeconfig file. TLS is always verified: there is no
// insecure mode, and a kubeconfig that asks for one, or an http:// server, is refused.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/kube/token.h"

namespace weave::kube {

inline constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";

struct Config {
  std::string server;  // "https://10.96.0.1:443" or "https://host:6443/prefix", no '/' at the end
  std::string ca_pem;  // the CAs to trust (PEM); empty: the system's
  std::string client_cert_pem;  // optional client certificate and its key (PEM)
  std::string client_key_pem;
  std::shared_ptr<TokenSource> token;  // null: no bearer token
  std::string default_namespace;       // the pod's namespace in a cluster, the context's otherwise
  absl::Duration connect_timeout = absl::Seconds(10);
};

// The process environment that configuration reads, injectable for tests.
struct Environment {
  std::string kubernetes_service_host;  // KUBERNETES_SERVICE_HOST
  std::string kubernetes_service_port;  // KUBERNETES_SERVICE_PORT
  std::string kubeconfig;               // KUBECONFIG
  static Environment FromProcess();
};

// In a pod: https://KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT, the CA in <sa_dir>/ca.crt,
// the token in <sa_dir>/token (a FileToken, so rotation is followed; read once here so that a
// missing token fails now), the namespace in <sa_dir>/namespace (optional).
absl::StatusOr<Config> InClusterConfig(const Environment& env,
                                       const std::string& sa_dir = kServiceAccountDir);

// The current context of a kubeconfig: its cluster's server and certificate-authority(-data),
// its user's token or tokenFile and client-certificate(-data)/client-key(-data), its namespace.
// Relative file names are relative to the kubeconfig's directory. Users with exec or
// auth-provider plugins, basic auth or insecure-skip-tls-verify are refused. Errors are one line
// and name the file ("kubeconfig /root/.kube/config: no current-context").
absl::StatusOr<Config> KubeconfigConfig(const std::string& path);

// The kubeconfig `kubeconfig_flag` if it is not empty, else the first file named in KUBECONFIG
// (a ':'-separated list; files are not merged), else the in-cluster configuration.
absl::StatusOr<Config> LoadConfig(const std::string& kubeconfig_flag,
                                  const Environment& env = Environment::FromProcess(),
                                  const std::string& sa_dir = kServiceAccountDir);

}  // namespace weave::kube
