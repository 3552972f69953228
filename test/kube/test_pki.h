// A throwaway certificate authority and a server certificate it signs, for the fake API server's
// HTTPS, and the kubeconfig that points clients at it. Written with libcrypto (no openssl CLI).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace weave::testing::kube {

struct TestPki {
  std::string ca_cert_path;      // <dir>/ca.crt: what clients trust
  std::string server_cert_path;  // <dir>/server.crt
  std::string server_key_path;   // <dir>/server.key
};

// Ensures <dir> holds ca.crt, ca.key, server.crt and server.key, the server certificate valid for
// 127.0.0.1, ::1, localhost and each address in `ips` (P-256 keys, valid for ten years).
// An existing CA is kept, so a restarted server keeps the CA its clients trust; the server
// certificate is issued anew by it on every call (with the addresses of this call). Creates `dir`.
absl::StatusOr<TestPki> EnsureTestPki(const std::string& dir, const std::vector<std::string>& ips);

// Writes a kubeconfig with one cluster, user and context ("fake"): the server URL, the CA file
// and a bearer token.
absl::Status WriteKubeconfig(const std::string& path, const std::string& server_url,
                             const std::string& ca_cert_path, const std::string& token);

}  // namespace weave::testing::kube
