// NetworkPolicy conformance on the real data path (weave-npc part 2): cases of
// npc/conformance/cases run by the same runner as the compiler's, on two nodes with the real
// weaver and weave-npc, pods attached through the real plugin and real TCP and UDP probes
// (npc_datapath.h). One cluster serves every case (starting one is slow); each case's pods,
// namespaces and policies are removed before the next, which starts from the empty model.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "npc/conformance/case.h"
#include "npc/conformance/runner.h"
#include "test/harness/status_assertions.h"
#include "test/npc_datapath.h"

namespace weave::testing {
namespace {

using npc::conformance::Case;
using npc::conformance::RunResult;

// Named ports (one name, different numbers per pod; egress), endPort, ipBlock with except, default
// deny both ways, and the model changing under policies: labels, updates, deletions.
const std::vector<std::string> kCases = {
    "named-port-ingress.json",
    "named-port-egress.json",
    "custom-named-port-per-pod-ingress.json",
    "endport-range.json",
    "ipblock-except-ingress.json",
    "deny-all-egress-x.json",
    "deny-all-ingress-x.json",
    "ingress-from-namespaceselector.json",
    "ingress-peer-and-vs-or.json",
    "ingress-port-udp-only.json",
    "policy-update-ports-and-peers.json",
    "policy-deletion-restores.json",
    "pod-labelled-into-policy-selector.json",
    "namespace-labels-add-set-remove.json",
    "union-of-policies.json",
    "multiple-rules-or.json",
};

// The case files to run: kCases, or those under the paths in $NPC_KERNEL_CASES (comma-separated
// files or directories), to run others by hand, e.g. the whole suite.
std::vector<std::string> CaseFiles() {
  const char* paths = std::getenv("NPC_KERNEL_CASES");
  if (paths == nullptr || *paths == '\0') {
    std::vector<std::string> out;
    for (const std::string& file : kCases) {
      out.push_back(absl::StrCat(NPC_CONFORMANCE_CASES_DIR, "/", file));
    }
    return out;
  }
  ASSIGN_OR_REQUIRE(std::vector<std::string> files,
                    npc::conformance::FindCaseFiles(absl::StrSplit(paths, ',')));
  return files;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST_CASE("NetworkPolicy conformance cases on real pods on two nodes", "[netns][npc]") {
  const auto cluster_start = std::chrono::steady_clock::now();
  NpcCluster cluster;
  std::cout << "cluster up in " << SecondsSince(cluster_start) << " s" << std::endl;

  std::vector<std::string> failed;
  for (const std::string& path : CaseFiles()) {
    ASSIGN_OR_REQUIRE(const Case c, npc::conformance::LoadCase(path));
    const std::string file = path.substr(path.rfind('/') + 1);
    const auto start = std::chrono::steady_clock::now();
    KernelDataPath data_path(cluster, KernelDataPath::ProbedPorts(c));
    const RunResult result = npc::conformance::RunCase(c, data_path, {.nodes = 2});
    const absl::Status reset = data_path.Reset();
    std::cout << (result.passed ? "PASS " : "FAIL ") << file << ": " << result.probes << " probes, "
              << result.skipped << " skipped (SCTP), " << SecondsSince(start) << " s" << std::endl;
    INFO(file);
    INFO(result.report);
    CHECK(result.passed);
    CHECK(result.probes > 0);
    // A case that cannot be cleaned up would leave the next one a different cluster.
    REQUIRE_OK(reset);
    if (!result.passed) failed.push_back(file);
  }
  INFO("failed: " << absl::StrJoin(failed, ", "));
  CHECK(failed.empty());
}

}  // namespace
}  // namespace weave::testing
