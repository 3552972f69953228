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

// Two nodes with weaver (KUBE_PEERS, EXPECT_NPC=1) and weave-npc (--node-name node1, node2),
// and the fake API server on node 1. The constructor REQUIREs every step: it returns once the
// overlay is up and both weave-npcs have applied the empty model.
class NpcCluster {
 public:
  static constexpr int kNodes = 2;

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

  // Waits until every node's table lists exactly what the compiler makes of `model` for it
  // (nft::ToText of npc::Compile, pods' nodes named as weave-npc knows them: "node1", "node2"),
  // but for the order of sets and chains: nft lists them in creation order. On timeout the
  // error shows the differing lines.
  absl::Status WaitEnforced(const npc::Model& model, absl::Duration within);

  // A fresh pod id (also its namespace's suffix): names never repeat within a run.
  std::string NextPodId() { return "np" + std::to_string(++pod_ids_); }

 private:
  PodCluster pods_;
  std::string api_dir_;
  int pod_ids_ = 0;
};

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
  absl::StatusOr<bool> Connects(const npc::Pod& from, const npc::Pod& to, npc::Protocol protocol,
                                uint16_t port) override;
  absl::StatusOr<std::vector<std::vector<bool>>> ConnectMatrix(
      const std::vector<const npc::Pod*>& pods, npc::Protocol protocol, uint16_t port) override;
  bool Supports(npc::Protocol protocol) const override;
  std::string Describe() const override;

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
