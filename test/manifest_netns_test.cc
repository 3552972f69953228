// The manifest runs, not just parses: the DaemonSet of charts/weave-daemonset-k8s.yaml, from the
// images charts/images/build.sh built (CTest runs that first: fixture weave_images), run on two
// nodes the way kubelet would (test/kubelet): the init container to completion, then the weave
// and weave-npc containers with the manifest's commands, environment, privileges and hostPath
// volumes (each node's under its own folder), the service account's token, CA and namespace
// mounted as Kubernetes mounts them, and KUBERNETES_SERVICE_HOST/PORT pointing at the fake API
// server (test/kube), which stands apart on the underlay like a control plane, loads the
// manifest's own ServiceAccount and RBAC objects (as `kubectl apply -f` would create them) and
// authorizes every request of the pod's service account with them.
//
// Then, as a cluster would use it: kubelet's readiness probe passes on both nodes, the routers
// fill ConfigMap kube-system/weave-net and mark their Nodes' network available, `weave --local
// status` in the weave container shows the peers connected and weave-npc synced, and two pods
// (in the API, scheduled to a node each) attached through the CNI plugin and conflist the init
// container installed into the node's CNI folders (run by libcni as a runtime runs them, on the
// node's side, with the node's /run) reach each other across the nodes. Any request the API
// server refused fails the test: a grant the manifest lacks shows even when a component copes.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "test/harness/file_util.h"
#include "test/harness/netns_cluster.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/test_status.h"
#include "test/harness/wait_for.h"
#include "test/kube/manifest.h"
#include "test/kubelet/pod_runner.h"
#include "test/pod_probes.h"

namespace weave::testing {
namespace {

namespace fs = std::filesystem;
using kubelet::NodeContext;
using kubelet::PodRunner;
using nlohmann::json;

constexpr int kNodes = 2;
// The API server's address on the underlay bridge, beside the nodes' 192.168.250.1x.
constexpr char kApiAddress[] = "192.168.250.1";
constexpr int kApiPort = 6443;
constexpr char kAdminToken[] = "manifest-test-admin";
constexpr char kPodToken[] = "manifest-test-weave-net";

// The manifest's objects of `kind`.
std::vector<json> ObjectsOfKind(const std::vector<json>& manifest, const std::string& kind) {
  std::vector<json> out;
  for (const json& item : manifest) {
    if (item.value("kind", "") == kind) out.push_back(item);
  }
  return out;
}

json Node(int i, const std::string& address) {
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", absl::StrCat("node", i)}}},
          {"status",
           {{"addresses",
             {{{"type", "InternalIP"}, {"address", address}},
              {{"type", "Hostname"}, {"address", absl::StrCat("node", i)}}}}}}};
}

json Namespace(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Namespace"},
          {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/metadata.name", name}}}}}};
}

// The test's pods: each is in the API, scheduled to its node, before kubelet sets it up (as in a
// cluster: weave-npc holds back traffic of pods the API does not know).
struct TestPod {
  const char* name;
  int node;
};
constexpr TestPod kPods[] = {{"pod-a", 1}, {"pod-b", 2}};

json PodObject(const TestPod& pod) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"namespace", "default"}, {"name", pod.name}, {"labels", {{"app", "manifest-test"}}}}},
          {"spec",
           {{"nodeName", absl::StrCat("node", pod.node)},
            {"containers", {{{"name", "echo"}, {"image", "none"}}}}}},
          {"status", {{"phase", "Pending"}}}};
}

class ManifestCluster {
 public:
  ManifestCluster() {
    // WEAVE_TEST_MANIFEST runs the test against another manifest (one being edited).
    const char* manifest = std::getenv("WEAVE_TEST_MANIFEST");
    manifest_path_ = manifest != nullptr && *manifest ? manifest : WEAVE_MANIFEST_PATH;
    ASSIGN_OR_REQUIRE(std::vector<json> objects, kube::ReadManifest(manifest_path_));
    std::vector<json> daemonsets = ObjectsOfKind(objects, "DaemonSet");
    REQUIRE(daemonsets.size() == 1);
    daemonset_ = daemonsets.front();
    pod_template_ = daemonset_["spec"]["template"];
    RequireImagesBuilt();

    ASSIGN_OR_REQUIRE(cluster_, NetnsCluster::Create(kNodes));
    StartApiServer();
    for (int i = 1; i <= kNodes; ++i) {
      pods_.push_back(std::make_unique<PodRunner>(WEAVE_PODMAN_PATH, NodeContextFor(i),
                                                  node(i).dir(),
                                                  absl::StrCat(cluster_->prefix(), "-node", i)));
    }
  }

  ~ManifestCluster() {
    if (CurrentTestFailed() || std::uncaught_exceptions() > 0) {
      for (const auto& pod : pods_) std::cerr << pod->Logs();
      if (api_) {
        std::cerr << "===== fake-apiserver: " << api_->log_path() << " =====\n";
        for (const std::string& line : LastLines(api_->log_path(), 60)) std::cerr << line << "\n";
      }
    }
    for (auto& pod : pods_) {
      if (absl::Status torn = pod->Teardown(); !torn.ok()) {
        std::cerr << "removing containers: " << torn << std::endl;
      }
    }
  }

  NetnsNode& node(int i) { return cluster_->node(i); }
  PodRunner& pod(int i) { return *pods_.at(i - 1); }
  const json& pod_template() const { return pod_template_; }
  NetnsCluster& netns() { return *cluster_; }

  // Whether the weave container gets WEAVE_PASSWORD (the generator's password-secret).
  bool WantsPassword() const {
    for (const json& container : pod_template_["spec"].value("containers", json::array())) {
      for (const json& var : container.value("env", json::array())) {
        if (container.value("name", "") == "weave" && var.value("name", "") == "WEAVE_PASSWORD") {
          return true;
        }
      }
    }
    return false;
  }

  // The API server's lines about requests it refused (RBAC denials naming the missing grant,
  // unknown tokens): with --quiet it logs nothing else.
  std::string ApiRefusals() {
    std::string out;
    for (absl::string_view line : absl::StrSplit(ReadFileOrEmpty(api_->log_path()), '\n')) {
      if (absl::StrContains(line, "RBAC denied") || absl::StrContains(line, "401 for")) {
        absl::StrAppend(&out, line, "\n");
      }
    }
    return out;
  }

  // The hostPath `path` of node i, as the containers see it under that path.
  std::string HostPath(int i, const std::string& path) {
    return (fs::path(node(i).host_root()) / fs::path(path).relative_path()).string();
  }

  // `method` on the API server's `path` as the cluster's admin, from node 1: the body on a 2xx
  // answer, "" otherwise. A PATCH sends `body` as a JSON merge patch.
  std::string Api(const std::string& method, const std::string& path,
                  const std::string& body = "") {
    std::vector<std::string> argv = {"curl",
                                     "-sS",
                                     "--fail",
                                     "--cacert",
                                     api_dir_ + "/ca.crt",
                                     "-H",
                                     absl::StrCat("Authorization: Bearer ", kAdminToken),
                                     "-X",
                                     method,
                                     absl::StrCat("https://", kApiAddress, ":", kApiPort, path)};
    CommandOptions options;
    if (!body.empty()) {
      argv.insert(argv.end(), {"-H",
                               method == "PATCH" ? "Content-Type: application/merge-patch+json"
                                                 : "Content-Type: application/json",
                               "--data-binary", "@-"});
      options.stdin_data = body;
    }
    absl::StatusOr<CommandResult> result = node(1).Exec(argv, absl::Seconds(20), options);
    return result.ok() && result->exit.success() ? result->stdout_data : "";
  }

 private:
  // The images are built by the weave_images fixture (charts/images/build.sh); a manifest that
  // names others would silently test nothing of this build.
  void RequireImagesBuilt() {
    for (const char* key : {"initContainers", "containers"}) {
      for (const json& container : pod_template_["spec"].value(key, json::array())) {
        const std::string image = container.value("image", "");
        ASSIGN_OR_REQUIRE(
            CommandResult exists,
            RunCommand({WEAVE_PODMAN_PATH, "image", "exists", image}, absl::Seconds(30)));
        INFO("image " << image << " of container " << container.value("name", "")
                      << " is not built: charts/images/build.sh " << WEAVE_BUILD_DIR);
        REQUIRE(exists.exit.success());
      }
    }
  }

  void StartApiServer() {
    api_dir_ = cluster_->work_dir() + "/apiserver";
    fs::create_directories(api_dir_);
    json seed = json::array({Namespace("kube-system"), Namespace("default")});
    for (int i = 1; i <= kNodes; ++i) seed.push_back(Node(i, node(i).address()));
    for (const TestPod& pod : kPods) seed.push_back(PodObject(pod));
    std::ofstream(api_dir_ + "/seed.json") << seed.dump();
    REQUIRE_OK(RunChecked({"ip", "-n", cluster_->underlay(), "addr", "add",
                           absl::StrCat(kApiAddress, "/24"), "dev", "br0"},
                          absl::Seconds(10)));
    ASSIGN_OR_REQUIRE(
        api_, Process::Start(
                  {FAKE_APISERVER_PATH, "--dir", api_dir_, "--listen-host", kApiAddress, "--port",
                   std::to_string(kApiPort), "--ip", kApiAddress, "--token", kAdminToken, "--seed",
                   api_dir_ + "/seed.json", "--quiet", "--rbac", "--rbac-objects", manifest_path_,
                   "--service-account-token", PodTokenUser()},
                  {.log_path = api_dir_ + "/fake-apiserver.log", .netns = cluster_->underlay()}));
    REQUIRE_OK(WaitFor([&] { return fs::exists(api_dir_ + "/kubeconfig"); }, absl::Seconds(20),
                       "the fake API server to listen"));
  }

  // "TOKEN=NAMESPACE/NAME": the pod's token belongs to the DaemonSet's service account, whose
  // RBAC grants are the manifest's.
  std::string PodTokenUser() const {
    const json& spec = pod_template_["spec"];
    return absl::StrCat(kPodToken, "=", daemonset_["metadata"].value("namespace", "default"), "/",
                        spec.value("serviceAccountName", spec.value("serviceAccount", "default")));
  }

  // The service account's files as kubelet mounts them for the pod.
  std::string ServiceAccountDir(int i) {
    const std::string dir = node(i).dir() + "/serviceaccount";
    fs::create_directories(dir);
    fs::copy_file(api_dir_ + "/ca.crt", dir + "/ca.crt", fs::copy_options::overwrite_existing);
    std::ofstream(dir + "/token") << kPodToken;
    std::ofstream(dir + "/namespace") << daemonset_["metadata"].value("namespace", "default");
    return dir;
  }

  NodeContext NodeContextFor(int i) {
    NodeContext context;
    context.node_name = absl::StrCat("node", i);
    context.host_ip = node(i).address();
    context.netns_path = absl::StrCat("/var/run/netns/", node(i).name());
    context.host_root = node(i).host_root();
    // The kernel's modules are the same for every node; where this machine has none (a
    // kernel without modules), the node's folder stands in, as an empty /lib/modules would.
    if (fs::exists("/lib/modules")) context.shared_host_paths.insert("/lib/modules");
    // So are the runtime's network namespaces of pods (ip netns, as containerd and CRI-O pin
    // them under /var/run/netns): the CNI plugin hands the router their paths.
    context.shared_host_paths.insert({"/run/netns", "/var/run/netns"});
    context.pod_name = absl::StrCat(daemonset_["metadata"].value("name", ""), "-node", i);
    context.pod_namespace = daemonset_["metadata"].value("namespace", "default");
    context.service_account_dir = ServiceAccountDir(i);
    context.api_host = kApiAddress;
    context.api_port = kApiPort;
    // The secret the spec's password example makes (`kubectl create secret -n kube-system
    // generic weave-passwd --from-file=weave-passwd`), for a manifest made with
    // password-secret=weave-passwd.
    context.secrets["weave-passwd"]["weave-passwd"] = "manifest-test-password";
    return context;
  }

  std::string manifest_path_;
  json daemonset_;
  json pod_template_;
  std::unique_ptr<NetnsCluster> cluster_;
  std::string api_dir_;
  std::unique_ptr<Process> api_;
  std::vector<std::unique_ptr<PodRunner>> pods_;
};

// A pod on node `i` attached as kubelet's runtime attaches it: libcni runs the conflist the init
// container installed, with the plugins of the node's CNI folder (and the node's own reference
// plugins, portmap among them, from /usr/lib/cni), on the node's side: in its network namespace,
// with its /run (where the router's socket is; /run/netns, where pods' namespaces are pinned, is
// the machine's, as for the containers).
struct AttachedPod {
  std::string netns;  // path
  std::string address;
};

AttachedPod Attach(ManifestCluster& c, const TestPod& pod) {
  const int i = pod.node;
  const std::string id = pod.name;
  ASSIGN_OR_REQUIRE(std::string netns, c.netns().AddPodNamespace(id));
  const std::string conflist = c.HostPath(i, "/etc/cni/net.d/10-weave.conflist");
  // A mount namespace of its own, so that the node's /run replaces the machine's only there.
  std::vector<std::string> argv = {
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "/bin/sh",
      "-c",
      "mkdir -p \"$0/netns\" && mount --rbind /run/netns \"$0/netns\" && mount --rbind \"$0\" /run "
      "&& exec \"$@\"",
      c.HostPath(i, "/run"),
      LIBCNI_RUNNER_PATH,
      "add",
      "-conf",
      conflist,
      "-netns",
      netns,
      "-id",
      id,
      "-ifname",
      "eth0",
      "-cache",
      c.HostPath(i, "/var/lib/cni"),
      "-args",
      absl::StrCat("IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=", id)};
  CommandOptions options;
  options.env = {{"CNI_PATH", absl::StrCat(c.HostPath(i, "/opt/cni/bin"), ":/usr/lib/cni")}};
  ASSIGN_OR_REQUIRE(CommandResult result, c.node(i).Exec(argv, absl::Seconds(90), options));
  INFO("CNI ADD of " << id << " on node " << i << ": " << result.stdout_data << result.stderr_data);
  REQUIRE(result.exit.success());
  const json added = json::parse(result.stdout_data);
  const std::string cidr = added["ips"][0]["address"];
  const std::string address = cidr.substr(0, cidr.find('/'));
  // Kubelet then reports the pod's address.
  const json status = {
      {"status", {{"phase", "Running"}, {"podIP", address}, {"podIPs", {{{"ip", address}}}}}}};
  CHECK(c.Api("PATCH", absl::StrCat("/api/v1/namespaces/default/pods/", id, "/status"),
              status.dump()) != "");
  return {netns, address};
}

TEST_CASE("the manifest's DaemonSet runs from the built images on two nodes", "[netns]") {
  ManifestCluster c;

  for (int i = 1; i <= kNodes; ++i) {
    REQUIRE_OK(c.pod(i).RunInitContainers(c.pod_template(), absl::Seconds(90)));
    // What the init container leaves on the host for kubelet.
    CHECK(fs::exists(c.HostPath(i, "/opt/cni/bin/weave-net")));
    CHECK(fs::is_symlink(c.HostPath(i, "/opt/cni/bin/weave-ipam")));
    CHECK(fs::exists(c.HostPath(i, "/etc/cni/net.d/10-weave.conflist")));
  }
  for (int i = 1; i <= kNodes; ++i) REQUIRE_OK(c.pod(i).StartContainers(c.pod_template()));
  for (int i = 1; i <= kNodes; ++i) REQUIRE_OK(c.pod(i).WaitReady(absl::Seconds(120)));
  // Ready (the router serves) is not yet open to new connections: with EXPECT_NPC=1 the policy
  // gate waits for weave-npc's first sync to reach the router, as an operator sees in the
  // spec's troubleshooting command, run inside the weave container.
  std::string status;
  for (int i = 1; i <= kNodes; ++i) {
    REQUIRE_OK(WaitFor(
        [&] {
          absl::StatusOr<CommandResult> run =
              c.pod(i).Exec("weave", {"/home/weave/weave", "--local", "status"});
          status = run.ok() ? run->stdout_data + run->stderr_data : run.status().ToString();
          return run.ok() && run->exit.success() &&
                 absl::StrContains(status, "    Connections: 1 (1 established)\n") &&
                 absl::StrContains(status, "        Service: npc\n         Status: ready\n");
        },
        absl::Seconds(60),
        absl::StrCat("node", i, "'s router to be connected and weave-npc synced")));
  }

  // The router's Kubernetes duties, each through a grant of the manifest's RBAC objects: the
  // peer list in ConfigMap kube-system/weave-net (configmaps create, get, update) and the
  // NetworkUnavailable condition of its Node (nodes/status get, update).
  std::string configmap;
  CHECK_OK(WaitFor(
      [&] {
        configmap = c.Api("GET", "/api/v1/namespaces/kube-system/configmaps/weave-net");
        return absl::StrContains(configmap, "node1") && absl::StrContains(configmap, "node2");
      },
      absl::Seconds(30), "both peers in ConfigMap kube-system/weave-net"));
  for (int i = 1; i <= kNodes; ++i) {
    std::string node;
    CHECK_OK(WaitFor(
        [&] {
          node = c.Api("GET", absl::StrCat("/api/v1/nodes/node", i));
          return absl::StrContains(node, "WeaveIsUp");
        },
        absl::Seconds(30), absl::StrCat("node", i, "'s NetworkUnavailable condition to be False")));
  }

  AttachedPod a = Attach(c, kPods[0]);
  AttachedPod b = Attach(c, kPods[1]);
  ProcessOptions server_options{.log_path = c.node(2).dir() + "/echo-pod-b.log",
                                .netns = NetnsName(b.netns)};
  ASSIGN_OR_REQUIRE(std::unique_ptr<Process> server,
                    Process::Start({"python3", "-c", kEchoServer}, server_options));
  REQUIRE_OK(WaitFor(
      [&] { return absl::StrContains(ReadFileOrEmpty(server_options.log_path), "\nserving\n"); },
      absl::Seconds(10), "pod-b's echo server to start"));

  REQUIRE_OK(WaitFor([&] { return Ping(a.netns, b.address); }, absl::Seconds(30),
                     "pod-a on node 1 to ping pod-b on node 2"));
  CHECK(Ping(b.netns, a.address));
  CHECK(Probe(a.netns, "pod-a", {b.address}).empty());

  // The rest of the status block, as the spec shows it (node 2's, the wait's last).
  INFO(status);
  CHECK_THAT(status, Catch::Contains("        Service: router\n"));
  CHECK_THAT(status, Catch::Contains("(node2)\n"));
  CHECK_THAT(status, Catch::Contains("          Peers: 2 (with 2 established connections)\n"));
  CHECK_THAT(status, Catch::Contains("        Service: ipam\n         Status: ready\n"));
  CHECK_THAT(status, Catch::Contains(c.WantsPassword() ? "     Encryption: enabled\n"
                                                       : "     Encryption: disabled\n"));

  // Nothing either container asked of the API server was refused: a grant the manifest lacks
  // fails the test here even when the component copes with the refusal.
  CHECK(c.ApiRefusals() == "");
}

}  // namespace
}  // namespace weave::testing
