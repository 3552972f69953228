#include "common/kube/https_test_server.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/kube/file.h"
#include "common/status_macros.h"
#include "ipam/testing/temp_dir.h"

namespace weave::kube::testing {

namespace {

absl::Status Run(const std::string& command) {
  const std::string quiet = absl::StrCat(command, " >/dev/null 2>&1");
  if (std::system(quiet.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("failed: ", command));
  }
  return absl::OkStatus();
}

constexpr char kNewKey[] = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

// A key and a certificate signed by the CA at `prefix`-ca.*, with the extensions in `ext`.
absl::Status Issue(const std::string& prefix, const std::string& role, const std::string& subject,
                   const std::string& ext) {
  const std::string base = absl::StrCat(prefix, "-", role);
  std::ofstream(base + ".ext") << ext << "\n";
  RETURN_IF_ERROR(Run(absl::StrCat("openssl req ", kNewKey, " -keyout ", base, ".key -out ", base,
                                   ".csr -subj ", subject)));
  return Run(absl::StrCat("openssl x509 -req -in ", base, ".csr -CA ", prefix, "-ca.crt -CAkey ",
                          prefix, "-ca.key -CAcreateserial -days 2 -out ", base, ".crt -extfile ",
                          base, ".ext"));
}

}  // namespace

absl::StatusOr<TestPki> MakeTestPki(const std::string& dir, const std::string& name,
                                    const std::string& server_names) {
  const std::string prefix = absl::StrCat(dir, "/", name);
  RETURN_IF_ERROR(
      Run(absl::StrCat("openssl req -x509 ", kNewKey, " -keyout ", prefix, "-ca.key -out ", prefix,
                       "-ca.crt -days 2 -subj /CN=", name, "-test-ca")));
  RETURN_IF_ERROR(
      Issue(prefix, "server", "/CN=server",
            absl::StrCat("subjectAltName=", server_names, "\nextendedKeyUsage=serverAuth")));
  RETURN_IF_ERROR(Issue(prefix, "client", "/CN=weave", "extendedKeyUsage=clientAuth"));
  TestPki pki;
  pki.ca_cert = prefix + "-ca.crt";
  pki.server_cert = prefix + "-server.crt";
  pki.server_key = prefix + "-server.key";
  pki.client_cert = prefix + "-client.crt";
  pki.client_key = prefix + "-client.key";
  ASSIGN_OR_RETURN(pki.ca_pem, ReadSmallFile(pki.ca_cert, "CA"));
  ASSIGN_OR_RETURN(pki.client_cert_pem, ReadSmallFile(pki.client_cert, "certificate"));
  ASSIGN_OR_RETURN(pki.client_key_pem, ReadSmallFile(pki.client_key, "key"));
  return pki;
}

const TestPki& SharedTestPki(const std::string& name, const std::string& server_names) {
  static ipam::testing::TempDir dir;  // removed at exit
  static absl::Mutex mu(absl::kConstInit);
  static std::map<std::string, TestPki> made;
  absl::MutexLock lock(&mu);
  auto it = made.find(name);
  if (it == made.end()) {
    absl::StatusOr<TestPki> pki = MakeTestPki(dir.path(), name, server_names);
    if (!pki.ok()) {
      std::fprintf(stderr, "%s\n", std::string(pki.status().message()).c_str());
      std::abort();
    }
    it = made.emplace(name, *std::move(pki)).first;
  }
  return it->second;
}

absl::StatusOr<std::unique_ptr<HttpsTestServer>> HttpsTestServer::Start(const TestPki& pki,
                                                                        bool require_client_cert) {
  std::unique_ptr<HttpsTestServer> server(new HttpsTestServer());
  server->server_ =
      std::make_unique<httplib::SSLServer>(pki.server_cert.c_str(), pki.server_key.c_str(),
                                           require_client_cert ? pki.ca_cert.c_str() : nullptr);
  if (!server->server_->is_valid()) {
    return absl::InternalError("the test HTTPS server cannot load its certificate");
  }
  server->port_ = server->server_->bind_to_any_port("127.0.0.1");
  if (server->port_ <= 0) return absl::InternalError("the test HTTPS server cannot bind");
  server->thread_ = std::thread([s = server.get()] { s->server_->listen_after_bind(); });
  // stop() does nothing until the loop runs: wait for it, so that Stop() always ends it.
  for (int i = 0; i < 500 && !server->server_->is_running(); ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  return server;
}

HttpsTestServer::~HttpsTestServer() { Stop(); }

void HttpsTestServer::Stop() {
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string HttpsTestServer::url() const { return absl::StrCat("https://127.0.0.1:", port_); }

}  // namespace weave::kube::testing
