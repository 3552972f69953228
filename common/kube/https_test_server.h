// For tests of the real transport: a throwaway certificate authority (made with the openssl
// CLI) and an HTTPS server on 127.0.0.1 (cpp-httplib) that tests give routes to.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"

namespace weave::kube::testing {

struct TestPki {
  std::string ca_pem;       // what a client trusts
  std::string ca_cert;      // files
  std::string server_cert;  // for IP 127.0.0.1 and DNS localhost
  std::string server_key;
  std::string client_cert;  // CN=weave, for client-certificate authentication
  std::string client_key;
  std::string client_cert_pem;
  std::string client_key_pem;
};

// Writes <dir>/<name>-ca.crt, -server.crt, -client.crt and their keys (P-256, valid two days).
// `server_names` is the server certificate's subjectAltName ("IP:127.0.0.1,DNS:localhost").
absl::StatusOr<TestPki> MakeTestPki(const std::string& dir, const std::string& name,
                                    const std::string& server_names = "IP:127.0.0.1,DNS:localhost");

// MakeTestPki once per process and `name` (the openssl CLI takes half a second), in a directory
// removed at exit. Aborts the test run if the PKI cannot be made.
const TestPki& SharedTestPki(const std::string& name,
                             const std::string& server_names = "IP:127.0.0.1,DNS:localhost");

class HttpsTestServer {
 public:
  // Listens on 127.0.0.1 (a free port) with the PKI's server certificate; when
  // `require_client_cert`, clients must present a certificate the PKI's CA signed. Add routes
  // through server() before the first request is sent.
  static absl::StatusOr<std::unique_ptr<HttpsTestServer>> Start(const TestPki& pki,
                                                                bool require_client_cert = false);
  ~HttpsTestServer();  // Stop()

  httplib::Server& server() { return *server_; }
  std::string url() const;  // "https://127.0.0.1:<port>"
  int port() const { return port_; }

  // Notified when the server stops: streaming handlers end their streams on it.
  const absl::Notification& stopping() const { return stopping_; }
  void Stop();

 private:
  HttpsTestServer() = default;
  std::unique_ptr<httplib::SSLServer> server_;
  std::thread thread_;
  int port_ = 0;
  absl::Notification stopping_;
};

}  // namespace weave::kube::testing
