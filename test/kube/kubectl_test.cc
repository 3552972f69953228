// kubectl against the fake API server, with the kubeconfig it writes: the real client keeps the
// fake honest (discovery, OpenAPI, tables, apply's patches, watches).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "test/harness/file_util.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"
#include "test/kube/server_fixture.h"

namespace weave::testing::kube {
namespace {

using nlohmann::json;

// $KUBECTL (to try another build), else /usr/bin/kubectl; a missing kubectl fails the test.
std::string Kubectl() {
  const char* env = std::getenv("KUBECTL");
  std::string path = env && *env ? env : "/usr/bin/kubectl";
  if (access(path.c_str(), X_OK) != 0) {
    FAIL("kubectl is not installed at "
         << path
         << ": these tests check the fake API server against the real client. Install it "
            "(Debian: apt-get install kubernetes-client) or point $KUBECTL at one.");
  }
  return path;
}

class KubectlFixture : public ServerFixture {
 public:
  using ServerFixture::ServerFixture;
  std::vector<std::string> Argv(const std::vector<std::string>& args) const {
    std::vector<std::string> argv = {
        Kubectl(),           "--kubeconfig", kubeconfig, "--cache-dir", dir.path() + "/kube-cache",
        "--request-timeout", "20s"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  CommandResult Run(const std::vector<std::string>& args) {
    absl::StatusOr<CommandResult> result = RunCommand(Argv(args), absl::Seconds(60));
    REQUIRE_OK(result);
    INFO(result->command << "\nstdout: " << result->stdout_data
                         << "\nstderr: " << result->stderr_data);
    return *result;
  }
  // Runs a kubectl command that must succeed; its stdout.
  std::string Ok(const std::vector<std::string>& args) {
    CommandResult result = Run(args);
    INFO(result.command << "\nstdout: " << result.stdout_data
                        << "\nstderr: " << result.stderr_data);
    REQUIRE(result.exit.success());
    return result.stdout_data;
  }
  std::string WriteFile(const std::string& name, const json& object) {
    const std::string path = dir.path() + "/" + name;
    std::ofstream(path) << object.dump(2);
    return path;
  }
};

TEST_CASE("kubectl get nodes -o json lists the nodes", "[kube][kubectl]") {
  KubectlFixture f;
  for (const char* name : {"node-1", "node-2"}) {
    REQUIRE_OK(f.server->store().Put(
        {{"apiVersion", "v1"},
         {"kind", "Node"},
         {"metadata", {{"name", name}}},
         {"status", {{"addresses", {{{"type", "InternalIP"}, {"address", "10.0.0.1"}}}}}}}));
  }
  json list = json::parse(f.Ok({"get", "nodes", "-o", "json"}));
  REQUIRE(list["items"].size() == 2);
  CHECK(list["items"][0]["metadata"]["name"] == "node-1");
  CHECK(list["items"][1]["status"]["addresses"][0]["address"] == "10.0.0.1");
  // And one by name, which is a GET.
  CHECK(json::parse(f.Ok({"get", "node", "node-2", "-o", "json"}))["kind"] == "Node");
}

TEST_CASE("kubectl get networkpolicies -A lists every namespace's policies", "[kube][kubectl]") {
  KubectlFixture f;
  for (const char* ns : {"default", "kube-system"}) {
    REQUIRE(
        f.client
            ->Post(absl::StrCat("/apis/networking.k8s.io/v1/namespaces/", ns, "/networkpolicies"),
                   {{"metadata", {{"name", absl::StrCat("deny-", ns)}}},
                    {"spec", {{"podSelector", json::object()}}}})
            .code == 201);
  }
  const std::string table = f.Ok({"get", "networkpolicies", "-A"});
  CHECK_THAT(table, Catch::Contains("NAMESPACE"));
  CHECK_THAT(table, Catch::Contains("deny-default"));
  CHECK_THAT(table, Catch::Contains("deny-kube-system"));
  CHECK_THAT(f.Ok({"get", "netpol", "-n", "kube-system", "-o", "name"}),
             Catch::Contains("networkpolicy.networking.k8s.io/deny-kube-system"));
}

TEST_CASE("kubectl apply and create -f write a ConfigMap", "[kube][kubectl]") {
  KubectlFixture f;
  json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", {{"name", "weave-net"}, {"namespace", "kube-system"}}},
             {"data", {{"peers", "a"}}}};
  CHECK_THAT(f.Ok({"apply", "-f", f.WriteFile("cm.json", cm)}), Catch::Contains("created"));
  cm["data"]["peers"] = "a,b";
  CHECK_THAT(f.Ok({"apply", "-f", f.WriteFile("cm.json", cm)}), Catch::Contains("configured"));
  ASSIGN_OR_REQUIRE(json stored, f.server->store().Get(*FindResource("", "v1", "configmaps"),
                                                       "kube-system", "weave-net"));
  CHECK(stored["data"]["peers"] == "a,b");
  CHECK(stored["metadata"]["annotations"].contains(
      "kubectl.kubernetes.io/last-applied-configuration"));

  json other = cm;
  other["metadata"]["name"] = "created";
  const std::string path = f.WriteFile("created.json", other);
  CHECK_THAT(f.Ok({"create", "-f", path}), Catch::Contains("configmap/created created"));
  CommandResult again = f.Run({"create", "-f", path});
  CHECK_FALSE(again.exit.success());
  CHECK_THAT(again.stderr_data, Catch::Contains("AlreadyExists"));
  CHECK_THAT(f.Ok({"delete", "configmap", "created", "-n", "kube-system"}),
             Catch::Contains("deleted"));
}

// Weave Net's RBAC objects as its manifest has them (YAML, several documents).
constexpr char kWeaveRbac[] = R"(apiVersion: v1
kind: ServiceAccount
metadata:
  name: weave-net
  namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: weave-net
rules:
  - apiGroups: ['']
    resources: [pods, namespaces, nodes]
    verbs: [get, list, watch]
  - apiGroups: [networking.k8s.io]
    resources: [networkpolicies]
    verbs: [get, list, watch]
  - apiGroups: ['']
    resources: [nodes/status]
    verbs: [patch, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: weave-net
roleRef:
  kind: ClusterRole
  name: weave-net
  apiGroup: rbac.authorization.k8s.io
subjects:
  - kind: ServiceAccount
    name: weave-net
    namespace: kube-system
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: weave-net
  namespace: kube-system
rules:
  - apiGroups: ['']
    resourceNames: [weave-net]
    resources: [configmaps]
    verbs: [get, update]
  - apiGroups: ['']
    resources: [configmaps]
    verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: weave-net
  namespace: kube-system
roleRef:
  kind: Role
  name: weave-net
  apiGroup: rbac.authorization.k8s.io
subjects:
  - kind: ServiceAccount
    name: weave-net
    namespace: kube-system
)";

TEST_CASE("kubectl apply of a manifest's RBAC objects grants its service account",
          "[kube][kubectl][rbac]") {
  FakeApiServerOptions options;
  options.rbac = true;
  options.token_users["weave-token"] = ServiceAccountUser("kube-system", "weave-net");
  KubectlFixture f(options);
  REQUIRE(f.client->Post("/api/v1/nodes", {{"metadata", {{"name", "n1"}}}}).code == 201);
  const std::string manifest = f.dir.path() + "/weave-rbac.yaml";
  std::ofstream(manifest) << kWeaveRbac;
  const std::string applied = f.Ok({"apply", "-f", manifest});
  CHECK_THAT(applied, Catch::Contains("clusterrole.rbac.authorization.k8s.io/weave-net created"));
  CHECK_THAT(applied, Catch::Contains("rolebinding.rbac.authorization.k8s.io/weave-net created"));
  CHECK_THAT(f.Ok({"get", "clusterroles", "-o", "name"}),
             Catch::Contains("clusterrole.rbac.authorization.k8s.io/weave-net"));

  std::unique_ptr<ApiTestClient> weave = f.NewClient("weave-token");
  const json status_patch = {{"status", {{"conditions", json::array()}}}};
  CHECK(weave->Get("/api/v1/nodes").code == 200);
  CHECK(weave->Patch("/api/v1/nodes/n1/status", status_patch).code == 200);
  CHECK(weave
            ->Post("/api/v1/namespaces/kube-system/configmaps",
                   {{"metadata", {{"name", "weave-net"}}}})
            .code == 201);
  CHECK(weave->Get("/api/v1/namespaces/kube-system/configmaps/weave-net").code == 200);
  CHECK(weave->Get("/api/v1/namespaces/kube-system/configmaps").code == 403);

  // Applying the manifest without the nodes/status rule takes the grant away.
  std::string reduced = kWeaveRbac;
  const std::string rule = "  - apiGroups: ['']\n    resources: [nodes/status]\n";
  reduced.replace(reduced.find(rule), rule.size(), "  - apiGroups: ['']\n    resources: [nodes]\n");
  std::ofstream(manifest) << reduced;
  CHECK_THAT(f.Ok({"apply", "-f", manifest}),
             Catch::Contains("clusterrole.rbac.authorization.k8s.io/weave-net configured"));
  CHECK(weave->Patch("/api/v1/nodes/n1/status", status_patch).code == 403);
}

TEST_CASE("kubectl get pods --watch sees a pod created afterwards", "[kube][kubectl]") {
  KubectlFixture f;
  REQUIRE(f.CreatePod("before").code == 201);
  const std::string log = f.dir.path() + "/watch.log";
  ASSIGN_OR_REQUIRE(auto watch,
                    Process::Start(f.Argv({"get", "pods", "--watch"}), {{}, log, std::nullopt}));
  REQUIRE_OK(WaitFor(
      [&] {
        return f.Requested(
            "GET /api/v1/namespaces/default/pods?"
            "resourceVersion=");
      },
      absl::Seconds(30), "kubectl to start watching"));
  REQUIRE(f.CreatePod("after").code == 201);
  absl::Status seen = WaitFor([&] { return absl::StrContains(ReadFileOrEmpty(log), "after"); },
                              absl::Seconds(20), "kubectl to print the new pod");
  INFO(ReadFileOrEmpty(log));
  CHECK_OK(seen);
  CHECK_THAT(ReadFileOrEmpty(log), Catch::Contains("before"));
  CHECK(watch->Running());
}

}  // namespace
}  // namespace weave::testing::kube
