// The distributed address ring between real weavers in network-namespace nodes, with pods
// attached by invoking the real weave-net plugin as kubelet does: distinct addresses across
// nodes, every router killed at once and restarted, rmpeer of a node gone for good, a small
// range used up through donations, and an ADD that arrives before consensus is possible.
#include <catch2/catch.hpp>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "test/harness/netns_cluster.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"
#include "test/pod_cluster.h"
#include "test/weaver_fixture.h"

namespace weave::testing {
namespace {

using nlohmann::json;
using Cluster = PodCluster;

void RequireDistinct(const std::vector<Pod>& pods) {
  std::set<std::string> addresses;
  for (const Pod& pod : pods) {
    INFO(pod.id << " " << pod.address);
    CHECK(addresses.insert(pod.address).second);
  }
}

TEST_CASE("three nodes hand out distinct addresses and keep them when every router is killed",
          "[netns][ipam]") {
  Cluster c(3);
  c.StartAll();
  c.WaitIpamReady({1, 2, 3});
  // One ring, split between the three.
  std::string ipam = c.Cli(1, {"status", "ipam"});
  for (int i = 1; i <= 3; ++i) CHECK_THAT(ipam, Catch::Contains(absl::StrCat("(node", i, ")")));

  std::vector<Pod> pods;
  for (int p = 0; p < 30; ++p) {
    pods.push_back(c.NewPod(p % 3 + 1, absl::StrCat("a", p)));
    c.Add(pods.back());
  }
  RequireDistinct(pods);
  for (const Pod& pod : pods) {
    INFO(pod.id << " on node" << pod.node << " at " << pod.address);
    CHECK(c.PingFromNode(pod.node, pod.address));
  }

  for (int i = 1; i <= 3; ++i) REQUIRE_OK(c.router(i)->Signal(SIGKILL));
  for (int i = 1; i <= 3; ++i) REQUIRE_OK(c.router(i)->Wait(absl::Seconds(5)));
  c.StartAll();
  c.WaitIpamReady({1, 2, 3});
  for (int i = 1; i <= 3; ++i) {
    std::map<std::string, std::string> listed = c.Ps(i);
    for (const Pod& pod : pods) {
      if (pod.node != i) continue;
      INFO(pod.id << " on node" << i);
      CHECK(listed[pod.id] == pod.address);
    }
  }
  for (int p = 30; p < 60; ++p) {
    pods.push_back(c.NewPod(p % 3 + 1, absl::StrCat("a", p)));
    c.Add(pods.back());
  }
  RequireDistinct(pods);
}

TEST_CASE("rmpeer takes over the space of a node gone for good", "[netns][ipam]") {
  Cluster c(3);
  c.StartAll();
  c.WaitIpamReady({1, 2, 3});
  const std::string gone = c.Report(3)["router"]["name"];
  REQUIRE_OK(c.router(3)->Stop(absl::Seconds(5)));
  // A connected peer cannot be removed; wait until node 3 is unreachable.
  REQUIRE_OK(WaitFor([&] {
    return absl::StrContains(c.Cli(1, {"status", "ipam"}), "- unreachable!");
  }, absl::Seconds(15), "node 3 to be unreachable"));
  ASSIGN_OR_REQUIRE(CommandResult removed, WeaveCli(c.node(1), {"rmpeer", gone}));
  INFO(removed.stderr_data);
  REQUIRE(removed.exit.success());
  CHECK_THAT(removed.stdout_data, Catch::Matches("[1-9][0-9]* IPs taken over from .*\n"));
  // Both live nodes see the ring without node 3, and node 1 owns its old share.
  for (int i : {1, 2}) {
    REQUIRE_OK(WaitFor([&] { return !absl::StrContains(c.Cli(i, {"status", "ipam"}), gone); },
                       absl::Seconds(10), "the ring without node 3"));
  }
  ASSIGN_OR_REQUIRE(CommandResult self, WeaveCli(c.node(1), {"rmpeer", "node1"}));
  CHECK_FALSE(self.exit.success());
}

TEST_CASE("a node out of space gets more from a peer until the range is used up",
          "[netns][ipam]") {
  Cluster c(2, {{"IPALLOC_RANGE", "10.40.0.0/28"}});
  c.StartAll();
  c.WaitIpamReady({1, 2});
  // 16 addresses: network and broadcast are never handed out, each bridge holds one.
  std::vector<Pod> pods;
  for (int p = 0; p < 12; ++p) {
    pods.push_back(c.NewPod(1, absl::StrCat("x", p)));
    c.Add(pods.back());
  }
  RequireDistinct(pods);
  Pod extra = c.NewPod(1, "x12");
  absl::Time start = absl::Now();
  CommandResult full = c.Cni("ADD", extra);
  CHECK_FALSE(full.exit.success());
  CHECK_THAT(full.stdout_data, Catch::Contains("no free address"));
  CHECK(absl::Now() - start < absl::Seconds(30));
}

TEST_CASE("an ADD before the second of two nodes is up waits for one ring", "[netns][ipam]") {
  Cluster c(2);
  c.Start(1);
  REQUIRE_OK(WaitFor([&] {
    return absl::StrContains(c.Cli(1, {"status"}), "awaiting consensus (quorum: 2, known: 1)");
  }, absl::Seconds(10), "node 1 to await consensus"));
  Pod pod = c.NewPod(1, "early");
  std::atomic<bool> done = false;
  CommandResult result;
  std::thread add([&] {
    result = c.Cni("ADD", pod);
    done = true;
  });
  // It waits rather than seeding alone.
  absl::Status early = WaitFor([&] { return done.load(); }, absl::Seconds(3), "the early ADD");
  CHECK_FALSE(early.ok());
  c.Start(2);
  add.join();
  INFO(result.stdout_data << result.stderr_data);
  CHECK(result.exit.success());
  c.WaitIpamReady({1, 2});
  for (int i : {1, 2}) {
    std::string ipam = c.Cli(i, {"status", "ipam"});
    CHECK_THAT(ipam, Catch::Contains("(node1)"));
    CHECK_THAT(ipam, Catch::Contains("(node2)"));
  }
}

TEST_CASE("weave reset hands the node's space to a live peer", "[netns][ipam]") {
  Cluster c(2);
  c.StartAll();
  c.WaitIpamReady({1, 2});
  ASSIGN_OR_REQUIRE(CommandResult reset, WeaveCli(c.node(2), {"reset"}));
  INFO(reset.stderr_data);
  REQUIRE(reset.exit.success());
  REQUIRE_OK(c.router(2)->Wait(absl::Seconds(10)));
  // Node 1 owns the whole range now, and says so.
  std::string ipam;
  absl::Status whole = WaitFor([&] {
    ipam = c.Cli(1, {"status", "ipam"});
    return absl::StrContains(ipam, "1048576 IPs (100.0% of total)") &&
           !absl::StrContains(ipam, "(node2)");
  }, absl::Seconds(10), "node 1 to own the whole range");
  INFO(ipam);
  CHECK_OK(whole);
}

TEST_CASE("two separately seeded clusters that meet are reported and one side yields",
          "[netns][ipam]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(4));
  auto name = [](int i) { return absl::StrCat("00:00:00:00:00:0", i); };
  // Nodes 1+2 and 3+4 each seed their own ring over the same range.
  for (int i = 1; i <= 4; ++i) {
    int first = i <= 2 ? 1 : 3;
    Environment env = {
        {"KUBE_PEERS", absl::StrCat(cluster->node(first).address(), " ",
                                    cluster->node(first + 1).address())},
        {"IPALLOC_INIT", absl::StrCat("seed=", name(first), ",", name(first + 1))}};
    StartWeaver(cluster->node(i), env, {"--name", name(i), "--heartbeat", "500ms"});
  }
  auto add = [&](int node, const std::string& id) {
    ASSIGN_OR_REQUIRE(std::string path, cluster->AddPodNamespace(id));
    CommandOptions options;
    options.env = {{"CNI_COMMAND", "ADD"}, {"CNI_CONTAINERID", id}, {"CNI_NETNS", path},
                   {"CNI_IFNAME", "eth0"},
                   {"CNI_ARGS", absl::StrCat("K8S_POD_NAMESPACE=default;K8S_POD_NAME=", id)}};
    options.stdin_data = json{{"cniVersion", "1.0.0"}, {"name", "weave"}, {"type", "weave-net"},
                              {"socket", cluster->node(node).socket_path()}}.dump();
    ASSIGN_OR_REQUIRE(CommandResult result, RunCommand({WEAVE_NET_PATH}, absl::Seconds(60), options));
    INFO(result.stdout_data);
    REQUIRE(result.exit.success());
    std::string cidr = json::parse(result.stdout_data)["ips"][0]["address"];
    return cidr.substr(0, cidr.find('/'));
  };
  // Both sides hand out the same first addresses.
  std::string a0 = add(1, "a0");
  std::string b0 = add(3, "b0");
  std::string b1 = add(3, "b1");
  REQUIRE(a0 == b0);

  // They meet: both report the conflict, neither loses its allocations.
  REQUIRE(WeaveCli(cluster->node(1), {"connect", cluster->node(3).address()})->exit.success());
  auto status = [&](int i) {
    absl::StatusOr<CommandResult> result = WeaveCli(cluster->node(i), {"status"});
    return result.ok() ? result->stdout_data : std::string();
  };
  REQUIRE_OK(WaitFor([&] {
    return absl::StrContains(status(1), "Conflict: IP allocation was seeded by different peers") &&
           absl::StrContains(status(3), "Conflict: IP allocation was seeded by different peers");
  }, absl::Seconds(15), "both sides to report the conflict"));
  CHECK_THAT(status(3), Catch::Contains("weave ipam-yield"));

  // Nodes 3 and 4 give way.
  ASSIGN_OR_REQUIRE(CommandResult yielded, WeaveCli(cluster->node(3), {"ipam-yield"}));
  INFO(yielded.stdout_data << yielded.stderr_data);
  REQUIRE(yielded.exit.success());
  // b1 was free on the other side: re-claimed; b0 (and the bridge) collide and are named.
  CHECK_THAT(yielded.stdout_data, Catch::Contains("re-claimed 1 address"));
  CHECK_THAT(yielded.stdout_data, Catch::Contains(absl::StrCat("default/b0 (", b0, ")")));
  ASSIGN_OR_REQUIRE(CommandResult yielded4, WeaveCli(cluster->node(4), {"ipam-yield"}));
  INFO(yielded4.stdout_data << yielded4.stderr_data);
  CHECK(yielded4.exit.success());
  REQUIRE_OK(WaitFor([&] {
    for (int i = 1; i <= 4; ++i) {
      if (absl::StrContains(status(i), "Conflict")) return false;
    }
    return true;
  }, absl::Seconds(15), "the conflict to clear everywhere"));
  // One ring now: b1's address is node 3's, so node 1 never hands it out.
  for (int p = 1; p <= 3; ++p) CHECK(add(1, absl::StrCat("a", p)) != b1);
  // Node 3 owns what it re-claimed; node 4 had nothing to re-claim and owns nothing.
  ASSIGN_OR_REQUIRE(CommandResult ipam, WeaveCli(cluster->node(2), {"status", "ipam"}));
  for (int i = 1; i <= 3; ++i) CHECK_THAT(ipam.stdout_data, Catch::Contains(absl::StrCat("(node", i, ")")));
}

}  // namespace
}  // namespace weave::testing
