// A fake Kubernetes API server for tests: HTTPS with a test CA, bearer-token authentication, and
// the list/watch/CRUD protocol of the real one for nodes, namespaces, pods, configmaps and
// networkpolicies, checked against kubectl and the Python client (test/kube/*_test.cc). The
// router and weave-npc run their production Kubernetes client against it.
//
//   FakeApiServerOptions options;
//   options.dir = work_dir + "/apiserver";               // CA, server certificate, kubeconfig
//   ASSIGN_OR_REQUIRE(auto server, FakeApiServer::Create(options));
//   REQUIRE_OK(server->Start());
//   REQUIRE_OK(server->WriteKubeconfig(work_dir + "/kubeconfig"));
//   server->store().Put(node_json);                       // state, as etcd would hold it
//   server->faults().Add({FaultKind::kGone, 1, "/api/v1/pods"});
//   server->Stop(); server->Start();                      // same port, same objects
//
// Requests: discovery (/api, /api/v1, /apis, /apis/<group>[/<version>], /version, minimal
// /openapi/v2 and /openapi/v3 for kubectl), then GET/LIST/WATCH/POST/PUT/PATCH/DELETE as in
// store.h and rest_handler.h. Not served: other types, JSON only (no protobuf, no server-side
// Table printing: kubectl prints client-side), no server-side apply, dryRun or deletecollection,
// no validation of specs beyond names. Every request needs "Authorization: Bearer <token>"
// (401 Unauthorized otherwise): options.token is the cluster admin's (never restricted), and
// options.token_users or AddToken add service accounts' and other users' tokens
// (token_authenticator.h). A service account's token is valid only while its ServiceAccount
// object exists, as on a real cluster.
//
// RBAC (options.rbac): every request is authorized by the RBAC objects in the store (rbac.h,
// created through the API like any object, kubectl apply included) plus the bootstrap
// system:discovery role; a denial is the real server's 403 and a line on stderr naming what was
// missing. Off (the default): every authenticated request may do anything. The binary's
// flags: --rbac, --service-account-token TOKEN=<ns>/<name>, --rbac-objects <manifest> (main.cc).
//
// Control endpoints for tests that run the binary (the admin token): POST /_fake/faults
// {"fault":"403|410|500|garbage|truncate","count":N,"pathPrefix":"/api/v1/nodes",
// "watchesOnly":false}, DELETE /_fake/faults, POST /_fake/close-watches, POST /_fake/compact
// (forget the history), POST /_fake/objects (Put each object of a list), GET /_fake/requests
// (the recent requests, oldest first), POST /_fake/tokens (register a token:
// {"token":"t","serviceAccount":"kube-system/weave-net"} or {"token":"t","user":"alice",
// "groups":["devs"]}).
//
// Threading: Start and Stop from one owning thread; store(), faults(), AddToken(),
// CloseAllWatches() and RecentRequests() from any thread. Each connection holds a worker thread
// while open (a watch for its whole life), so `worker_threads` bounds the concurrent connections.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "test/kube/faults.h"
#include "test/kube/rbac.h"
#include "test/kube/store.h"
#include "test/kube/test_pki.h"
#include "test/kube/token_authenticator.h"

namespace httplib {
class SSLServer;
}

namespace weave::testing::kube {

struct FakeApiServerOptions {
  std::string dir;  // required: the CA and server certificate are kept here (test_pki.h)
  std::string listen_host = "127.0.0.1";
  int port = 0;                            // 0 picks a free port at the first Start; kept after
  std::vector<std::string> ips;            // more addresses for the server certificate
  std::string token = "weave-fake-token";  // the cluster admin's (system:masters)
  // More bearer tokens and their users: ServiceAccountUser("kube-system", "weave-net") for a
  // pod's service account.
  std::map<std::string, UserInfo> token_users;
  // Authorize with the stored RBAC objects, as --authorization-mode=RBAC (see above).
  bool rbac = false;
  // Watches that send allowWatchBookmarks=true get a BOOKMARK this often (the real server: about
  // a minute).
  absl::Duration bookmark_interval = absl::Seconds(1);
  // The length of a watch whose client sends no timeoutSeconds (the real server: 30-60 min).
  absl::Duration default_watch_timeout = absl::Minutes(30);
  // How long an idle keep-alive connection stays open; Stop waits for idle ones up to this.
  absl::Duration idle_timeout = absl::Seconds(2);
  int worker_threads = 128;
  // Like a restarted kube-apiserver's watch cache, a restarted fake starts with no history, so
  // resourceVersions from before the restart are 410 for watches. Set to keep the history.
  bool keep_history_across_restart = false;
  StoreOptions store;
  // Called with each request's log line (as RecentRequests has it), on a server thread.
  std::function<void(const std::string&)> on_request;
};

class FakeApiServer {
 public:
  // Opens the store (its state file, if any) and ensures the certificates; does not listen.
  static absl::StatusOr<std::unique_ptr<FakeApiServer>> Create(FakeApiServerOptions options);
  ~FakeApiServer();

  // Listens (on the same port as before after a Stop) and serves on background threads.
  absl::Status Start();
  // Ends every watch (cleanly, as a real server's shutdown does), waits for requests in flight
  // and closes the listening socket. The store is kept. Idempotent.
  void Stop();

  int port() const { return port_; }
  // https://<listen_host>:<port> (127.0.0.1 when listening on every address), or with `host`
  // instead: the address a client in another network namespace reaches (it must be in
  // options.ips for the certificate to match).
  std::string url(const std::string& host = "") const;
  const TestPki& pki() const { return pki_; }
  const std::string& token() const { return options_.token; }
  // A kubeconfig for url(host), the CA and the token.
  absl::Status WriteKubeconfig(const std::string& path, const std::string& host = "") const;

  Store& store() { return *store_; }
  FaultInjector& faults() { return faults_; }
  // Registers (or replaces) a bearer token for `user`, as options.token_users.
  void AddToken(const std::string& token, UserInfo user) { tokens_.Add(token, std::move(user)); }
  void CloseAllWatches() { store_->CloseAllWatches(); }
  // "GET /api/v1/pods?watch=1&resourceVersion=7 200", oldest first, the last 1000.
  std::vector<std::string> RecentRequests() const;

 private:
  class Handler;
  FakeApiServer(FakeApiServerOptions options, std::unique_ptr<Store> store, TestPki pki);
  void Log(std::string line);

  const FakeApiServerOptions options_;
  std::unique_ptr<Store> store_;
  const TestPki pki_;
  FaultInjector faults_;
  TokenAuthenticator tokens_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<httplib::SSLServer> http_;
  std::thread thread_;
  int port_ = 0;
  bool started_before_ = false;
  mutable std::mutex log_mu_;
  std::deque<std::string> log_;
};

}  // namespace weave::testing::kube
