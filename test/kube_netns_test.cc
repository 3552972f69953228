// Routers in a Kubernetes cluster, against the fake API server (test/kube) run as a process on
// node 1: with no KUBE_PEERS they find each other from the Nodes, list themselves in the
// weave-net ConfigMap, mark their Nodes' network available, and when a Node is deleted exactly
// one live peer reclaims its address space. They use the in-cluster path: a service-account
// directory with the token and the CA, KUBERNETES_SERVICE_HOST and _PORT.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
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
#include "test/harness/wait_for.h"
#include "test/weaver_fixture.h"

namespace weave::testing {
namespace {

using nlohmann::json;

constexpr char kToken[] = "in-cluster-test-token";
constexpr int kApiPort = 6443;

class KubeCluster {
 public:
  explicit KubeCluster(int size) {
    ASSIGN_OR_REQUIRE(cluster_, NetnsCluster::Create(size));
    api_dir_ = cluster_->work_dir() + "/apiserver";
    std::filesystem::create_directories(api_dir_);
    json nodes = json::array();
    for (int i = 1; i <= size; ++i) {
      nodes.push_back({{"apiVersion", "v1"},
                       {"kind", "Node"},
                       {"metadata", {{"name", absl::StrCat("node", i)}}},
                       {"status",
                        {{"addresses",
                          {{{"type", "InternalIP"}, {"address", node(i).address()}},
                           {{"type", "Hostname"}, {"address", absl::StrCat("node", i)}}}}}}});
    }
    std::ofstream(api_dir_ + "/seed.json") << nodes.dump();
    StartApiServer(kToken);
    // The in-cluster service-account directory, as kubelet mounts it.
    sa_dir_ = cluster_->work_dir() + "/serviceaccount";
    std::filesystem::create_directories(sa_dir_);
    std::filesystem::copy_file(api_dir_ + "/ca.crt", sa_dir_ + "/ca.crt");
    std::ofstream(sa_dir_ + "/token") << kToken;
    std::ofstream(sa_dir_ + "/namespace") << "kube-system";
  }

  // (Re)starts the API server accepting `token`; its objects persist in its state file.
  void StartApiServer(const std::string& token) {
    std::filesystem::remove(api_dir_ + "/kubeconfig");
    ASSIGN_OR_REQUIRE(api_, node(1).Start("fake-apiserver",
                                          {FAKE_APISERVER_PATH, "--dir", api_dir_, "--listen-host",
                                           node(1).address(), "--port", std::to_string(kApiPort),
                                           "--ip", node(1).address(), "--token", token, "--seed",
                                           api_dir_ + "/seed.json", "--quiet"}));
    REQUIRE_OK(WaitFor([&] { return std::filesystem::exists(api_dir_ + "/kubeconfig"); },
                       absl::Seconds(20), "the fake API server to listen"));
    token_ = token;
  }

  // The service account's token is rotated: the server takes only the new one, and the file
  // the routers read holds it.
  void RotateToken(const std::string& token) {
    REQUIRE_OK(api_->Stop(absl::Seconds(10)).status());
    std::ofstream(sa_dir_ + "/token.new") << token;
    std::filesystem::rename(sa_dir_ + "/token.new", sa_dir_ + "/token");
    StartApiServer(token);
  }

  // POSTs `body` to one of the fake server's control endpoints.
  void Control(const std::string& path, const std::string& body) {
    CHECK_OK(node(1).Exec({"curl", "-sf", "--cacert", api_dir_ + "/ca.crt", "-H",
                           absl::StrCat("Authorization: Bearer ", token_), "-X", "POST", "-d",
                           body, absl::StrCat("https://", node(1).address(), ":", kApiPort, path)})
                 ->ToStatus());
  }

  NetnsNode& node(int i) { return cluster_->node(i); }

  Process* StartRouter(int i) {
    return StartWeaverServing(node(i),
                              {{"KUBERNETES_SERVICE_HOST", node(1).address()},
                               {"KUBERNETES_SERVICE_PORT", std::to_string(kApiPort)}},
                              {"--heartbeat", "500ms", "--kube-service-account-dir", sa_dir_});
  }

  // kubectl inside node 1's namespace with the server's kubeconfig.
  json Kubectl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"kubectl", "--kubeconfig", api_dir_ + "/kubeconfig"};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> result = node(1).Exec(argv, absl::Seconds(20));
    if (!result.ok() || !result->exit.success()) return json();
    json parsed = json::parse(result->stdout_data, nullptr, false);
    return parsed.is_discarded() ? json() : parsed;
  }

  std::string Cli(int i, const std::vector<std::string>& args) {
    absl::StatusOr<CommandResult> result = WeaveCli(node(i), args);
    return result.ok() && result->exit.success() ? result->stdout_data : "";
  }

  std::vector<std::string> ListedPeers() {
    json cm = Kubectl({"get", "configmap", "-n", "kube-system", "weave-net", "-o", "json"});
    std::vector<std::string> out;
    if (!cm.is_object()) return out;
    json peers = json::parse(
        cm["metadata"]["annotations"].value("kube-peers.weave.works/peers", "{}"), nullptr, false);
    if (!peers.is_object() || !peers.contains("Peers")) return out;
    for (const json& peer : peers["Peers"]) out.push_back(peer.value("NodeName", ""));
    return out;
  }

 private:
  std::unique_ptr<NetnsCluster> cluster_;
  std::string api_dir_;
  std::string sa_dir_;
  Process* api_ = nullptr;
  std::string token_;
};

size_t EstablishedConnections(const std::string& status) {
  size_t count = 0;
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (absl::StrContains(line, " established ")) ++count;
  }
  return count;
}

TEST_CASE("routers without KUBE_PEERS find each other from the Nodes and reclaim a deleted one",
          "[netns][kube]") {
  KubeCluster c(3);
  std::vector<Process*> routers = {nullptr};
  for (int i = 1; i <= 3; ++i) routers.push_back(c.StartRouter(i));

  std::string last;
  REQUIRE_OK(WaitFor(
      [&] {
        for (int i = 1; i <= 3; ++i) {
          last = c.Cli(i, {"status", "connections"});
          if (EstablishedConnections(last) != 2) return false;
          if (!absl::StrContains(c.Cli(i, {"status"}), "Status: ready")) return false;
        }
        return true;
      },
      absl::Seconds(30), "the routers to connect from the Nodes' addresses"));
  REQUIRE_OK(WaitFor([&] { return c.ListedPeers().size() == 3; }, absl::Seconds(15),
                     "the ConfigMap to list the three peers"));
  REQUIRE_OK(WaitFor(
      [&] {
        json nodes = c.Kubectl({"get", "nodes", "-o", "json"});
        if (!nodes.is_object() || nodes["items"].size() != 3) return false;
        for (const json& node : nodes["items"]) {
          bool available = false;
          for (const json& condition : node["status"].value("conditions", json::array())) {
            available |= condition.value("type", "") == "NetworkUnavailable" &&
                         condition.value("status", "") == "False" &&
                         condition.value("reason", "") == "WeaveIsUp";
          }
          if (!available) return false;
        }
        return true;
      },
      absl::Seconds(15), "every Node to have NetworkUnavailable=False"));

  // A 403 is reported with the verb and the resource (the reflector relists and is refused).
  c.Control("/_fake/faults", R"({"fault":"403","count":6,"pathPrefix":"/api/v1/nodes"})");
  c.Control("/_fake/close-watches", "{}");
  REQUIRE_OK(WaitFor(
      [&] {
        for (int i = 1; i <= 3; ++i) {
          const std::string log = ReadFileOrEmpty(routers[i]->log_path());
          if (absl::StrContains(log, "nodes: https://") &&
              absl::StrContains(log, "403 Forbidden")) {
            return true;
          }
        }
        return false;
      },
      absl::Seconds(20), "a router to report the 403"));

  // The token rotates (and the API server restarts): the routers read the new one and keep
  // following the Nodes; a new Node's address becomes a target.
  c.RotateToken("rotated-token");
  json node4 = {{"apiVersion", "v1"},
                {"kind", "Node"},
                {"metadata", {{"name", "node4"}}},
                {"status", {{"addresses", {{{"type", "InternalIP"}, {"address", "192.168.250.99"}}}}}}};
  c.Control("/_fake/objects", json::array({node4}).dump());
  REQUIRE_OK(WaitFor(
      [&] { return absl::StrContains(c.Cli(2, {"status", "targets"}), "192.168.250.99"); },
      absl::Seconds(30), "the routers to follow the Nodes with the rotated token"));

  // Node 3 goes away for good: its router stops, then its Node is deleted.
  const std::string name3 = "(node3)";  // `weave status ipam` lists "<peer>(<nickname>)"
  REQUIRE(absl::StrContains(c.Cli(1, {"status", "ipam"}), name3));
  REQUIRE_OK(routers[3]->Stop(absl::Seconds(10)).status());
  REQUIRE_FALSE(c.Kubectl({"delete", "node", "node3", "-o", "name"}).is_discarded());
  REQUIRE_OK(WaitFor(
      [&] {
        return !absl::StrContains(c.Cli(1, {"status", "ipam"}), name3) &&
               !absl::StrContains(c.Cli(2, {"status", "ipam"}), name3);
      },
      absl::Seconds(30), "node 3's address space to be reclaimed"));
  REQUIRE_OK(WaitFor([&] { return c.ListedPeers().size() == 2; }, absl::Seconds(15),
                     "the ConfigMap to drop node 3's peer"));
  // Exactly one live peer took it over.
  int reclaimers = 0;
  for (int i : {1, 2}) {
    if (absl::StrContains(ReadFileOrEmpty(routers[i]->log_path()), "whose node is gone")) {
      ++reclaimers;
    }
  }
  CHECK(reclaimers == 1);

  // Node 3 comes back with its old store: it starts as a new peer instead of claiming the
  // space that was reclaimed, and the ring stays one ring.
  json node3 = {{"apiVersion", "v1"},
                {"kind", "Node"},
                {"metadata", {{"name", "node3"}}},
                {"status", {{"addresses", {{{"type", "InternalIP"}, {"address", c.node(3).address()}}}}}}};
  c.Control("/_fake/objects", json::array({node3}).dump());
  routers[3] = c.StartRouter(3);
  REQUIRE_OK(WaitFor(
      [&] {
        return absl::StrContains(ReadFileOrEmpty(routers[3]->log_path()), "starting clean") &&
               absl::StrContains(c.Cli(3, {"status"}), "Status: ready") &&
               c.ListedPeers().size() == 3;
      },
      absl::Seconds(30), "node 3 to rejoin as a new peer"));
  for (int i = 1; i <= 3; ++i) {
    const std::string status = c.Cli(i, {"status"});
    INFO(status);
    CHECK_FALSE(absl::StrContains(status, "Conflict"));
  }
}

}  // namespace
}  // namespace weave::testing
