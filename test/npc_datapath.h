// The NetworkPolicy conformance cases (npc/conformance/) on the real data path: two nodes, each
// running the real weaver and the real weave-npc, the fake API server (test/kube) on node 1 as
// the source of truth for both weave-npcs, pods attached through the real weave-net plugin, and
// real TCP and UDP packets as probes (npc-probe, test/npc_probe.cc).
//
//   NpcCluster cluster;                                   // slow: start it once
//   for (const Case& c : cases) {
//     KernelDataPath data_path(cluster, KernelDataPath::ProbedPorts(c));
//     RunResult result = RunCase(c, data_path, {.nodes = 2});
//     CHECK_OK(data_path.Reset());                         // the next case starts clean
//   }
//
// Needs root and the compile definitions WEAVER_PATH, WEAVE_CLI_PATH, WEAVE_NPC_PATH,
// WEAVE_NET_PATH, FAKE_APISERVER_PATH and NPC_PROBE_PATH. Threading: driven by the test's main
// thread; ConnectMatrix runs its probes on threads of its own and joins them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "npc/conformance/case.h"
#include "npc/conformance/runner.h"
#include "npc/model/model.h"
#include "test/harness/subprocess.h"
#include "test/pod_cluster.h"

namespace weave::testing {

// How a node's weave-npc runs: the flags that change what it compiles.
struct NpcOptions {
  bool allow_mcast = true;  // --allow-mcast
};

// Two nodes with weaver (KUBE_PEERS, EXPECT_NPC=1) and weave-npc (--node-name node1, node2),
// and the fake API server on node 1. The constructor REQUIREs every step: it returns once the
// overlay is up and both weave-npcs have applied the empty model.
class NpcCluster {
 public:
  static constexpr int kNodes = 2;
  // Where each node's weave-npc serves its metrics (--metrics-addr), inside the node's namespace.
  static constexpr char kNpcMetricsAddress[] = "127.0.0.1:6781";

  NpcCluster();

  PodCluster& pods() { return pods_; }
  NetnsNode& node(int i) { return pods_.node(i); }

  // `method` on the API server's `path` (from node 1) with an optional JSON body. OK for a 2xx
  // answer, and for a 404 when `missing_ok` (a DELETE of what is already gone).
  absl::Status Api(const std::string& method, const std::string& path, const std::string& body = "",
                   bool missing_ok = false);

  // `nft list table inet weave-npc` in node i's namespace, or why it could not be listed (in
  // parentheses, which a listing never starts with).
  std::string Table(int i);

  // Waits until the table of every node in `nodes` lists exactly what the compiler makes of
  // `model` for it (nft::ToText of npc::Compile, pods' nodes named as weave-npc knows them:
  // "node1", "node2"), but for the order of sets and chains: nft lists them in creation order.
  // On timeout the error shows the differing lines.
  absl::Status WaitEnforced(const npc::Model& model, absl::Duration within,
                            const std::vector<int>& nodes = {1, 2});

  // The fake API server's kubeconfig (a file; its server is node 1's address).
  std::string kubeconfig() const { return api_dir_ + "/kubeconfig"; }

  // A fresh pod id (also its namespace's suffix): names never repeat within a run.
  std::string NextPodId() { return "np" + std::to_string(++pod_ids_); }

  // Node i's weave-npc as last started (owned by the node; valid for the cluster's lifetime).
  Process* npc(int i) { return npcs_.at(i); }
  // Node i's weave-npc log: every run of it, restarts appended.
  std::string NpcLog(int i);
  // GET /metrics of node i's weave-npc (over HTTP inside the node's namespace).
  absl::StatusOr<std::string> NpcMetrics(int i);

  // Stops node i's weave-npc with `signal` (SIGTERM: it must exit 0 within 10 s; SIGKILL: it
  // dies at once). Its table stays in the kernel, as a rolling update leaves it.
  absl::Status StopNpc(int i, int signal);
  // Starts node i's weave-npc with `options`, which WaitEnforced then expects of the node.
  // Returns once it serves its metrics: it may not have synced yet.
  absl::Status StartNpc(int i, NpcOptions options);
  // StopNpc, then StartNpc.
  absl::Status RestartNpc(int i, int signal, NpcOptions options = {});

  // Waits until node i's weave-npc (as last started) has applied a ruleset since it started
  // (weavenpc_ruleset_syncs_total >= 1): it has listed everything and reconciled its table.
  absl::Status WaitNpcSynced(int i, absl::Duration within);

 private:
  // Starts node i's weave-npc with options_[i], without waiting.
  absl::Status LaunchNpc(int i);

  PodCluster pods_;
  std::string api_dir_;
  int pod_ids_ = 0;
  std::vector<Process*> npcs_ = std::vector<Process*>(kNodes + 1);
  std::vector<NpcOptions> options_ = std::vector<NpcOptions>(kNodes + 1);
};

// `npc-probe connect` from network namespace `netns` (a name) to each of `to` at once: one
// character per address (see npc_probe.cc), e.g. ".X".
absl::StatusOr<std::string> NpcProbe(const std::string& netns, npc::Protocol protocol,
                                     uint16_t port, const std::vector<std::string>& to);

// The value of the series `series` (name and labels as exposed, e.g.
// `weavenpc_blocked_connections_total{protocol="tcp",dport="80"}`) in a Prometheus text
// exposition; 0 when it is absent (a counter not yet incremented).
double MetricValue(const std::string& exposition, const std::string& series);

class KernelDataPath : public npc::conformance::DataPath {
 public:
  // Every pod serves `ports` on both TCP and UDP.
  KernelDataPath(NpcCluster& cluster, std::vector<uint16_t> ports);
  ~KernelDataPath() override;

  // 80 and 81 plus every port a probe of `c` uses.
  static std::vector<uint16_t> ProbedPorts(const npc::conformance::Case& c);

  // Node "node-1" / "node-2" of the runner as weave-npc and the API know it.
  static std::string NodeName(const std::string& runner_node);

  absl::StatusOr<std::map<std::string, net::Ipv4>> CreatePods(
      const std::vector<npc::conformance::CasePod>& pods) override;
  absl::Status Enforce(const npc::Model& model,
                       const std::map<std::string, nlohmann::json>& policy_objects) override;
  // Enforce's first half: puts `model` and the policies in the API server (what changed since
  // the last call, in one request, and deletions), without waiting for the tables.
  absl::Status Post(const npc::Model& model,
                    const std::map<std::string, nlohmann::json>& policy_objects);
  absl::StatusOr<bool> Connects(const npc::Pod& from, const npc::Pod& to, npc::Protocol protocol,
                                uint16_t port) override;
  absl::StatusOr<std::vector<std::vector<bool>>> ConnectMatrix(
      const std::vector<const npc::Pod*>& pods, npc::Protocol protocol, uint16_t port) override;
  bool Supports(npc::Protocol protocol) const override;
  std::string Describe() const override;

  // The attached pod "ns/name" (its namespace path, node and address), or nullptr.
  const Pod* Attached(const std::string& key) const;

  // Starts argv (a helper such as `npc-probe stream`) in pod "ns/name"'s network namespace,
  // logging to <node dir>/<label>-<pod id>.log. The caller owns the process.
  absl::StatusOr<std::unique_ptr<Process>> StartInPod(const std::string& key,
                                                      const std::string& label,
                                                      const std::vector<std::string>& argv) const;

  // Deletes what the case made: its objects from the API, its pods (CNI DEL, servers stopped),
  // then waits until both weave-npcs enforce the empty model again. Idempotent; the destructor
  // calls it if the test did not.
  absl::Status Reset();

 private:
  struct AttachedPod {
    Pod pod;
    std::unique_ptr<Process> server;
  };

  // Probes from `from` to each of `to` at once: one character per address (see npc_probe.cc).
  absl::StatusOr<std::string> Probe(const AttachedPod& from, const std::vector<std::string>& to,
                                    npc::Protocol protocol, uint16_t port) const;

  NpcCluster& cluster_;
  const std::vector<uint16_t> ports_;
  std::map<std::string, AttachedPod> pods_;       // by "ns/name"
  std::map<std::string, nlohmann::json> posted_;  // the API's objects, by REST path
  std::string anomalies_;  // probe answers other than "." and "X", for Describe
  bool reset_ = false;
};

}  // namespace weave::testing
