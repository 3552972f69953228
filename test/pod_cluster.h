// Nodes running the real weaver (KUBE_PEERS naming every node) with pods attached by invoking
// the real weave-net plugin as kubelet does, for the scenario tests of IPAM and the overlay.
// Header-only, like weaver_fixture.h (needs WEAVE_NET_PATH besides its paths).
#pragma once

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "test/harness/netns_cluster.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"
#include "test/weaver_fixture.h"

namespace weave::testing {

struct Pod {
  std::string id;
  std::string netns;  // path
  int node = 0;
  std::string address;  // without prefix, once attached
};

class PodCluster {
 public:
  // `env` and `args` are added to every weaver's.
  explicit PodCluster(int size, Environment env = {}, std::vector<std::string> args = {})
      : env_(std::move(env)), args_(std::move(args)) {
    ASSIGN_OR_REQUIRE(cluster_, NetnsCluster::Create(size));
    std::vector<std::string> addresses;
    for (int i = 1; i <= size; ++i) addresses.push_back(cluster_->node(i).address());
    peers_ = absl::StrJoin(addresses, " ");
    routers_.resize(size + 1);
  }

  NetnsNode& node(int i) { return cluster_->node(i); }
  NetnsCluster& netns() { return *cluster_; }
  int size() { return cluster_->size(); }

  void Start(int i) {
    Environment env = env_;
    env.push_back({"KUBE_PEERS", peers_});
    std::vector<std::string> args = {"--heartbeat", "500ms"};
    args.insert(args.end(), args_.begin(), args_.end());
    routers_[i] = StartWeaverServing(node(i), env, args);
  }
  void StartAll() {
    for (int i = 1; i <= size(); ++i) Start(i);
  }
  Process* router(int i) { return routers_[i]; }

  std::string Cli(int i, const std::vector<std::string>& args) {
    absl::StatusOr<CommandResult> result = WeaveCli(node(i), args);
    if (!result.ok() || !result->exit.success()) return "";
    return result->stdout_data;
  }

  void WaitIpamReady(std::vector<int> nodes, absl::Duration within = absl::Seconds(20)) {
    std::string last;
    absl::Status ready = WaitFor(
        [&] {
          for (int i : nodes) {
            last = Cli(i, {"status"});
            if (!absl::StrContains(last, "Status: ready")) return false;
          }
          return true;
        },
        within, "IPAM to be ready on every node");
    INFO(last);
    REQUIRE_OK(ready);
  }

  Pod NewPod(int on_node, const std::string& id) {
    ASSIGN_OR_REQUIRE(std::string path, cluster_->AddPodNamespace(id));
    return Pod{id, path, on_node, ""};
  }

  // `k8s_pod` ("namespace/name") is the pod kubelet names in CNI_ARGS; "default/<id>" if empty.
  CommandResult Cni(const std::string& command, const Pod& pod, const std::string& k8s_pod = "") {
    const size_t slash = k8s_pod.find('/');
    const std::string pod_args =
        k8s_pod.empty() ? absl::StrCat("K8S_POD_NAMESPACE=default;K8S_POD_NAME=", pod.id)
                        : absl::StrCat("K8S_POD_NAMESPACE=", k8s_pod.substr(0, slash),
                                       ";K8S_POD_NAME=", k8s_pod.substr(slash + 1));
    CommandOptions options;
    options.env = {{"CNI_COMMAND", command},
                   {"CNI_CONTAINERID", pod.id},
                   {"CNI_NETNS", pod.netns},
                   {"CNI_IFNAME", "eth0"},
                   {"CNI_PATH", std::filesystem::path(WEAVE_NET_PATH).parent_path().string()},
                   {"CNI_ARGS", pod_args}};
    options.stdin_data = nlohmann::json{{"cniVersion", "1.0.0"},
                              {"name", "weave"},
                              {"type", "weave-net"},
                              {"socket", node(pod.node).socket_path()}}
                             .dump();
    ASSIGN_OR_REQUIRE(CommandResult result,
                      RunCommand({WEAVE_NET_PATH}, absl::Seconds(90), options));
    return result;
  }

  void Add(Pod& pod) {
    CommandResult result = Cni("ADD", pod);
    INFO(result.stdout_data << result.stderr_data);
    REQUIRE(result.exit.success());
    std::string cidr = nlohmann::json::parse(result.stdout_data)["ips"][0]["address"];
    pod.address = cidr.substr(0, cidr.find('/'));
  }

  bool PingFromNode(int i, const std::string& address) {
    auto result = node(i).Exec({"ping", "-c1", "-W2", address}, absl::Seconds(10));
    return result.ok() && result->exit.success();
  }

  // Pod addresses `weave ps` lists on node i, by container id.
  std::map<std::string, std::string> Ps(int i) {
    std::map<std::string, std::string> out;
    for (absl::string_view line : absl::StrSplit(Cli(i, {"ps"}), '\n', absl::SkipEmpty())) {
      std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
      // "<id> <mac> <address>..."; the MAC is blank for pods restored after a restart.
      if (fields.size() >= 2 && fields[0] != "weave:expose") {
        out[fields[0]] = fields.back().substr(0, fields.back().find('/'));
      }
    }
    return out;
  }

  nlohmann::json Report(int i) {
    nlohmann::json report = nlohmann::json::parse(Cli(i, {"report"}), nullptr, false);
    return report.is_discarded() ? nlohmann::json::object() : report;
  }

 private:
  Environment env_;
  std::vector<std::string> args_;
  std::unique_ptr<NetnsCluster> cluster_;
  std::string peers_;
  std::vector<Process*> routers_;
};

}  // namespace weave::testing
