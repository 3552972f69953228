// The fake-apiserver binary as kernel tests run it: seeded from a file, driven through the
// control endpoints, restarted with its state file.
#include <catch2/catch.hpp>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "test/harness/file_util.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"
#include "test/kube/api_test_client.h"
#include "test/kube/test_dir.h"

namespace weave::testing::kube {
namespace {

using nlohmann::json;

const json kSeed = json::array({
    {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "weave"}}}},
    {{"apiVersion", "v1"},
     {"kind", "Node"},
     {"metadata", {{"name", "node-1"}}},
     {"status", {{"addresses", {{{"type", "InternalIP"}, {"address", "10.0.0.1"}}}}}}},
    {{"apiVersion", "v1"},
     {"kind", "Pod"},
     {"metadata", {{"name", "web"}, {"namespace", "weave"}, {"labels", {{"app", "web"}}}}},
     {"spec", {{"nodeName", "node-1"}, {"containers", {{{"name", "c"}, {"image", "i"}}}}}},
     {"status", {{"phase", "Running"}, {"podIP", "10.32.0.2"}}}},
});

// The binary, running until the object goes; Start waits for the kubeconfig it writes.
class BinaryServer {
 public:
  explicit BinaryServer(const std::string& dir) : dir_(dir) {}

  void Start(const std::vector<std::string>& extra_args) {
    std::remove((dir_ + "/kubeconfig").c_str());
    std::vector<std::string> argv = {FAKE_APISERVER_PATH, "--dir", dir_};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    ASSIGN_OR_REQUIRE(process_, Process::Start(argv, {{}, dir_ + "/log", std::nullopt}));
    REQUIRE_OK(WaitFor(
        [&] { return !ReadFileOrEmpty(dir_ + "/kubeconfig").empty() || !process_->Running(); },
        absl::Seconds(20), "fake-apiserver to write its kubeconfig"));
    INFO(ReadFileOrEmpty(dir_ + "/log"));
    REQUIRE(process_->Running());
    json config = json::parse(ReadFileOrEmpty(dir_ + "/kubeconfig"));
    url_ = config["clusters"][0]["cluster"]["server"];
    token_ = config["users"][0]["user"]["token"];
    client_ = std::make_unique<ApiTestClient>(url_, dir_ + "/ca.crt", token_);
  }

  ExitStatus Stop() {
    absl::StatusOr<ExitStatus> status = process_->Stop(absl::Seconds(10));
    REQUIRE_OK(status);
    return *status;
  }

  ApiTestClient& client() { return *client_; }
  std::unique_ptr<ApiTestClient> NewClient(const std::string& token) const {
    return std::make_unique<ApiTestClient>(url_, dir_ + "/ca.crt", token);
  }
  std::string port() const { return url_.substr(url_.rfind(':') + 1); }

 private:
  std::string dir_;
  std::unique_ptr<Process> process_;
  std::string url_, token_;
  std::unique_ptr<ApiTestClient> client_;
};

std::string Rv(const json& object) { return object["metadata"]["resourceVersion"]; }

TEST_CASE("the binary serves its seed, obeys its control endpoints and survives restarts",
          "[kube]") {
  TestDir dir;
  const std::string seed = dir.path() + "/seed.json";
  std::ofstream(seed) << kSeed.dump();
  BinaryServer server(dir.path());
  server.Start({"--seed", seed, "--token", "t0ken"});

  // Seeded objects are stored as given, status included.
  ApiAnswer pod = server.client().Get("/api/v1/namespaces/weave/pods/web");
  REQUIRE(pod.code == 200);
  CHECK(pod.body["status"]["podIP"] == "10.32.0.2");
  CHECK(server.client()
            .Get("/api/v1/nodes?labelSelector=&fieldSelector=metadata.name%3Dnode-1")
            .body["items"]
            .size() == 1);

  // Faults through the control endpoint.
  REQUIRE(
      server.client()
          .Post("/_fake/faults", {{"fault", "500"}, {"count", 1}, {"pathPrefix", "/api/v1/nodes"}})
          .code == 200);
  CHECK(server.client().Get("/api/v1/nodes").code == 500);
  CHECK(server.client().Get("/api/v1/nodes").code == 200);
  CHECK(server.client().Post("/_fake/faults", {{"fault", "teapot"}}).code == 400);
  ApiAnswer requests = server.client().Get("/_fake/requests");
  REQUIRE(requests.code == 200);
  CHECK(requests.body.size() >= 4);
  CHECK(requests.body[requests.body.size() - 2] == "GET /api/v1/nodes 200");

  // Changes survive a restart on the same port; the seed is not applied again.
  REQUIRE(server.client().Delete("/api/v1/namespaces/weave/pods/web").code == 200);
  ApiAnswer cm = server.client().Post("/api/v1/namespaces/weave/configmaps",
                                      {{"metadata", {{"name", "weave-net"}}}});
  REQUIRE(cm.code == 201);
  const std::string port = server.port();
  CHECK(server.Stop().success());  // SIGTERM: a clean exit

  server.Start({"--seed", seed, "--token", "t0ken", "--port", port});
  CHECK(server.port() == port);
  CHECK(server.client().Get("/api/v1/namespaces/weave/pods/web").code == 404);
  ApiAnswer kept = server.client().Get("/api/v1/namespaces/weave/configmaps/weave-net");
  REQUIRE(kept.code == 200);
  CHECK(Rv(kept.body) == Rv(cm.body));
  ApiAnswer next = server.client().Post("/api/v1/namespaces/weave/configmaps",
                                        {{"metadata", {{"name", "after"}}}});
  CHECK(std::stoll(Rv(next.body)) > std::stoll(Rv(cm.body)));
  // Versions from before the restart are beyond the (new, empty) history.
  ApiAnswer old_list = server.client().Get(
      "/api/v1/configmaps?resourceVersionMatch=Exact&resourceVersion=" + Rv(pod.body));
  CHECK(old_list.code == 410);
  CHECK(server.Stop().success());
}

TEST_CASE("the binary authorizes service account tokens with rbac", "[kube][rbac]") {
  TestDir dir;
  // A manifest as a project ships it: the DaemonSet is not served and so skipped.
  const std::string manifest = dir.path() + "/weave.yaml";
  std::ofstream(manifest) << R"(apiVersion: v1
kind: ServiceAccount
metadata: {name: weave-net, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: weave-net}
rules:
  - {apiGroups: [''], resources: [nodes], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: weave-net}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: weave-net}
subjects: [{kind: ServiceAccount, name: weave-net, namespace: kube-system}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: weave-net, namespace: kube-system}
)";
  BinaryServer server(dir.path());
  server.Start({"--rbac-objects", manifest, "--rbac", "--service-account-token",
                "sa=kube-system/weave-net"});
  std::unique_ptr<ApiTestClient> weave = server.NewClient("sa");
  CHECK(weave->Get("/api/v1/nodes").code == 200);
  ApiAnswer denied = weave->Patch("/api/v1/nodes/n1/status", json::object());
  CHECK(denied.code == 403);
  CHECK(denied.body["message"] ==
        "nodes \"n1\" is forbidden: User \"system:serviceaccount:kube-system:weave-net\" cannot "
        "patch resource \"nodes/status\" in API group \"\" at the cluster scope");
  CHECK(server.NewClient("unknown")->Get("/api/v1/nodes").code == 401);
  CHECK(server.client().Get("/api/v1/nodes").code == 200);  // the admin's kubeconfig token
  CHECK(server.Stop().success());
  const std::string log = ReadFileOrEmpty(dir.path() + "/log");
  CHECK_THAT(log, Catch::Contains("skipping DaemonSet weave-net"));
  CHECK_THAT(
      log, Catch::Contains("RBAC denied PATCH /api/v1/nodes/n1/status: nodes \"n1\" is forbidden"));
}

}  // namespace
}  // namespace weave::testing::kube
