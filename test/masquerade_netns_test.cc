// Masquerading in the router's table `inet weave`, with real traffic between two node
// namespaces: node 1 runs weaver and a pod; node 2 stands for "outside" (another host).
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "test/harness/netns_cluster.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"
#include "test/weaver_fixture.h"

namespace weave::testing {
namespace {

// Starts weaver on node 1 and attaches one pod; returns the pod's namespace name and address.
std::pair<std::string, std::string> RouterWithPod(NetnsCluster& cluster, const char* no_masq) {
  NetnsNode& node = cluster.node(1);
  StartWeaver(node, {{"NO_MASQ_LOCAL", no_masq}});
  ASSIGN_OR_REQUIRE(std::string netns, cluster.AddPodNamespace("pod"));
  CommandOptions cni;
  cni.env = {{"CNI_COMMAND", "ADD"},   {"CNI_CONTAINERID", "pod1"}, {"CNI_NETNS", netns},
             {"CNI_IFNAME", "eth0"},   {"CNI_PATH", "/nonexistent"}};
  cni.stdin_data = nlohmann::json{{"cniVersion", "1.0.0"},
                                  {"name", "weave"},
                                  {"type", "weave-net"},
                                  {"socket", node.socket_path()}}
                       .dump();
  ASSIGN_OR_REQUIRE(CommandResult add, RunCommand({WEAVE_NET_PATH}, absl::Seconds(30), cni));
  INFO(add.stdout_data);
  REQUIRE(add.exit.success());
  std::string cidr = nlohmann::json::parse(add.stdout_data)["ips"][0]["address"];
  // "Outside" reaches pods through node 1, as a NodePort's traffic would after DNAT.
  REQUIRE_OK(cluster.node(2).Exec({"ip", "route", "add", "10.32.0.0/12", "via",
                                   node.address()})->ToStatus());
  return {std::filesystem::path(netns).filename().string(), cidr.substr(0, cidr.find('/'))};
}

// Listens with ncat in `listener_ns`, connects from `client_ns` to `address`, and returns the
// client address the listener saw.
std::string SeenSource(NetnsCluster& cluster, NetnsNode& listener_node,
                       const std::string& listener_ns, const std::string& client_ns,
                       const std::string& address) {
  ASSIGN_OR_REQUIRE(Process * listener,
                    listener_node.Start(absl::StrCat("ncat-", listener_ns),
                                        {"ip", "netns", "exec", listener_ns, "ncat", "-v", "-l",
                                         "-p", "7777", "--recv-only"}));
  REQUIRE_OK(WaitFor(
      [&] {
        auto r = RunCommand({"ip", "netns", "exec", listener_ns, "ss", "-ltn", "sport = :7777"},
                            absl::Seconds(5));
        return r.ok() && absl::StrContains(r->stdout_data, "7777");
      },
      absl::Seconds(10), "ncat to listen"));
  CommandOptions send;
  send.stdin_data = "hello\n";
  ASSIGN_OR_REQUIRE(CommandResult sent,
                    RunCommand({"ip", "netns", "exec", client_ns, "ncat", "--send-only", "-w",
                                "3", address, "7777"},
                               absl::Seconds(10), send));
  REQUIRE(sent.exit.success());
  REQUIRE_OK(listener->Wait(absl::Seconds(10)));
  std::string log;
  REQUIRE_OK(WaitFor(
      [&] {
        auto r = RunCommand({"cat", listener->log_path()}, absl::Seconds(5));
        log = r.ok() ? r->stdout_data : "";
        return absl::StrContains(log, "Connection from");
      },
      absl::Seconds(5), "ncat to log the connection"));
  // "Ncat: Connection from 192.168.250.12." or "...from 192.168.250.12:43210."
  size_t from = log.find("Connection from ") + strlen("Connection from ");
  size_t end = log.find_first_not_of("0123456789.", from);
  std::string source = log.substr(from, end - from);
  while (!source.empty() && source.back() == '.') source.pop_back();
  return source;
}

TEST_CASE("pod to outside is masqueraded and outside to a local pod keeps the client address",
          "[netns]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(2));
  auto [pod_ns, pod_ip] = RouterWithPod(*cluster, "1");
  // Pod -> node 2: node 2 sees node 1's address, not the pod's.
  CHECK(SeenSource(*cluster, cluster->node(2), cluster->node(2).name(), pod_ns,
                   cluster->node(2).address()) == cluster->node(1).address());
  // Node 2 -> pod, NO_MASQ_LOCAL on: the pod sees node 2's own address.
  CHECK(SeenSource(*cluster, cluster->node(1), pod_ns, cluster->node(2).name(), pod_ip) ==
        cluster->node(2).address());
}

TEST_CASE("with NO_MASQ_LOCAL=0 outside traffic to pods is masqueraded", "[netns]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(2));
  auto [pod_ns, pod_ip] = RouterWithPod(*cluster, "0");
  CHECK(SeenSource(*cluster, cluster->node(1), pod_ns, cluster->node(2).name(), pod_ip) ==
        "10.32.0.1");
}

}  // namespace
}  // namespace weave::testing
