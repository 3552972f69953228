// The overlay between real weavers in network-namespace nodes, pods attached through the real
// weave-net plugin: every pod reaches every pod (ICMP, TCP, UDP) and every node reaches every
// remote pod, over fastdp (kernel VXLAN) and over sleeve (WEAVE_NO_FASTDP=1); a blocked VXLAN
// port falls back to sleeve with a logged reason and returns to fastdp when unblocked; a TCP
// stream over fastdp survives its router's restart.
#include <catch2/catch.hpp>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "test/harness/file_util.h"
#include "test/pod_cluster.h"
#include "test/pod_probes.h"
#include "test/weaver_fixture.h"

namespace weave::testing {
namespace {

// The Kubernetes network model: 3 nodes x 3 pods, every pod to every pod by ICMP, TCP and UDP,
// and every node to every pod on the other nodes.
void CheckFullMatrix(PodCluster& c, Pods& pods) {
  for (int node = 1; node <= 3; ++node) {
    for (int k = 1; k <= 3; ++k) pods.Add(node, absl::StrCat("n", node, "p", k));
  }
  std::vector<std::string> addresses;
  for (const Pod& pod : pods.all()) addresses.push_back(pod.address);

  std::vector<std::string> failures;
  for (const Pod& from : pods.all()) {
    for (const Pod& to : pods.all()) {
      if (!Ping(from.netns, to.address)) {
        failures.push_back(absl::StrCat(from.id, " -> ", to.id, " ", to.address, " icmp fail"));
      }
    }
    for (std::string& failure : Probe(from.netns, from.id, addresses)) {
      failures.push_back(std::move(failure));
    }
  }
  for (int node = 1; node <= 3; ++node) {
    const std::string node_netns = absl::StrCat("/run/netns/", c.node(node).name());
    std::vector<std::string> remote;
    for (const Pod& pod : pods.all()) {
      if (pod.node == node) continue;
      remote.push_back(pod.address);
      if (!Ping(node_netns, pod.address)) {
        failures.push_back(absl::StrCat("node", node, " -> ", pod.id, " icmp fail"));
      }
    }
    for (std::string& failure : Probe(node_netns, absl::StrCat("node", node), remote)) {
      failures.push_back(std::move(failure));
    }
  }
  INFO(absl::StrJoin(failures, "\n"));
  CHECK(failures.empty());
}

TEST_CASE("3 nodes x 3 pods reach each other over fastdp", "[netns][overlay]") {
  PodCluster c(3);
  StartAndSettle(c, "fastdp");
  Pods pods(c);
  CheckFullMatrix(c, pods);
  // Nothing went through user space.
  nlohmann::json report = c.Report(1);
  INFO(report.dump());
  CHECK(report["router"]["overlay"].value("sleeveTxFrames", "0") == "0");
}

TEST_CASE("3 nodes x 3 pods reach each other over sleeve", "[netns][overlay]") {
  PodCluster c(3, {{"WEAVE_NO_FASTDP", "1"}});
  StartAndSettle(c, "sleeve");
  Pods pods(c);
  CheckFullMatrix(c, pods);
  nlohmann::json report = c.Report(1);
  INFO(report.dump());
  CHECK(report["router"]["overlay"].value("sleeveTxFrames", "0") != "0");
}

TEST_CASE("with a password pod traffic is sealed on the underlay and the matrix holds",
          "[netns][overlay]") {
  PodCluster c(3, {{"WEAVE_PASSWORD", "correct horse battery staple"}});
  // Encrypted links never use VXLAN (this kernel has no IPsec ESP): sealed sleeve.
  StartAndSettle(c, "sleeve");
  const std::string connections = c.Cli(1, {"status", "connections"});
  INFO(connections);
  CHECK(absl::StrContains(connections, "established encrypted   sleeve"));
  Pods pods(c);
  CheckFullMatrix(c, pods);

  // A capture of the underlay (node 1's port) while a pod there sends a recognisable payload
  // to another node's pod.
  const std::string capture = absl::StrCat(c.netns().work_dir(), "/underlay.pcap");
  ProcessOptions tcpdump;
  tcpdump.netns = c.netns().underlay();
  tcpdump.log_path = absl::StrCat(c.netns().work_dir(), "/tcpdump.log");
  ASSIGN_OR_REQUIRE(std::unique_ptr<Process> capturing,
                    Process::Start({"tcpdump", "-Z", "root", "--immediate-mode", "-i", "n1", "-U", "-w",
                                     capture, "udp"},
                                    tcpdump));
  REQUIRE_OK(WaitFor(
      [&] { return absl::StrContains(ReadFileOrEmpty(tcpdump.log_path), "listening on"); },
      absl::Seconds(10), "tcpdump to listen"));
  const Pod& from = pods.all().front();
  const Pod& to = pods.all().back();
  std::string payload;
  for (int i = 0; i < 200; ++i) payload += "PLAINTEXT-CANARY-";
  CommandOptions send;
  send.netns = NetnsName(from.netns);
  send.stdin_data = payload;
  REQUIRE_OK(RunCommand({"ncat", "--send-only", to.address, "7000"}, absl::Seconds(10), send)
                 ->ToStatus());
  // The payload crossed the underlay: the capture holds at least its size.
  CHECK_OK(WaitFor([&] { return ReadFileOrEmpty(capture).size() > payload.size(); },
                   absl::Seconds(10), "the capture to hold the payload's datagrams"));
  REQUIRE_OK(capturing->Stop(absl::Seconds(5)).status());
  const std::string captured = ReadFileOrEmpty(capture);
  INFO(ReadFileOrEmpty(tcpdump.log_path));
  CHECK_FALSE(absl::StrContains(captured, "PLAINTEXT-CANARY"));
  CHECK_FALSE(absl::StrContains(captured, "hello 10."));  // the probes' tokens
}

TEST_CASE("pods on two nodes without a direct path talk through a third", "[netns][overlay]") {
  PodCluster c(3);
  // Nodes 1 and 3 cannot reach each other on the underlay; both reach node 2.
  CommandOptions block;
  block.netns = c.netns().underlay();
  block.stdin_data = absl::StrCat(
      "table bridge weavetest {\n"
      "  chain forward {\n"
      "    type filter hook forward priority 0;\n"
      "    ip saddr ", c.node(1).address(), " ip daddr ", c.node(3).address(), " drop\n",
      "    ip saddr ", c.node(3).address(), " ip daddr ", c.node(1).address(), " drop\n",
      "  }\n"
      "}\n");
  REQUIRE_OK(RunCommand({"nft", "-f", "-"}, absl::Seconds(10), block)->ToStatus());
  c.StartAll();
  c.WaitIpamReady({1, 2, 3});
  WaitForOverlay(c, {1, 3}, 1, "fastdp");
  WaitForOverlay(c, {2}, 2, "fastdp");
  Pods pods(c);
  Pod& a = pods.Add(1, "a");
  Pod& b = pods.Add(3, "b");
  CHECK(Ping(a.netns, b.address));
  CHECK(Ping(b.netns, a.address));
  std::vector<std::string> failures = Probe(a.netns, "a", {b.address});
  for (std::string& failure : Probe(b.netns, "b", {a.address})) failures.push_back(failure);
  INFO(absl::StrJoin(failures, "\n"));
  CHECK(failures.empty());
  nlohmann::json report = c.Report(2);
  INFO(report.dump());
  CHECK(report["router"]["overlay"].value("sleeveRelayed", "0") != "0");
}

TEST_CASE("a blocked VXLAN port falls back to sleeve visibly and fastdp returns",
          "[netns][overlay]") {
  // Heartbeats every 300ms (a path silent for 1.5s is given up), fastdp retried every 4s.
  PodCluster c(2, {}, {"--overlay-heartbeat", "300ms", "--fastdp-retry", "4s"});
  StartAndSettle(c, "fastdp");
  Pods pods(c);
  Pod& a = pods.Add(1, "a");
  Pod& b = pods.Add(2, "b");
  REQUIRE(Ping(a.netns, b.address));

  const std::string underlay = c.netns().underlay();
  CommandOptions in_underlay;
  in_underlay.netns = underlay;
  in_underlay.stdin_data =
      "table bridge weavetest {\n"
      "  chain forward { type filter hook forward priority 0; udp dport 6784 drop; }\n"
      "}\n";
  REQUIRE_OK(RunCommand({"nft", "-f", "-"}, absl::Seconds(10), in_underlay)->ToStatus());

  WaitForOverlay(c, {1, 2}, 1, "sleeve", absl::Seconds(15));
  const std::string log = ReadFileOrEmpty(c.router(1)->log_path());
  INFO(log);
  CHECK(absl::StrContains(log, "fastdp stopped working"));
  CHECK(Ping(a.netns, b.address));
  CHECK(Probe(a.netns, "a", {b.address}).empty());
  absl::StatusOr<CommandResult> metrics = c.node(1).Exec(
      {"curl", "-s", "http://127.0.0.1:6782/metrics"}, absl::Seconds(10));
  REQUIRE(metrics.ok());
  CHECK(absl::StrContains(metrics->stdout_data, "weave_overlay_links{type=\"sleeve\"} 1"));
  CHECK_FALSE(absl::StrContains(metrics->stdout_data, "weave_fastdp_fallbacks_total 0\n"));

  CommandOptions unblock;
  unblock.netns = underlay;
  REQUIRE_OK(RunCommand({"nft", "delete", "table", "bridge", "weavetest"}, absl::Seconds(10),
                        unblock)
                 ->ToStatus());
  // Within the retry interval (4s) plus the time heartbeats need to show it works.
  WaitForOverlay(c, {1, 2}, 1, "fastdp", absl::Seconds(15));
  CHECK(Ping(a.netns, b.address));
  CHECK(Probe(a.netns, "a", {b.address}).empty());
}

TEST_CASE("a TCP stream over fastdp survives a router restart", "[netns][overlay]") {
  PodCluster c(2);
  StartAndSettle(c, "fastdp");
  Pods pods(c);
  Pod& a = pods.Add(1, "a");
  Pod& b = pods.Add(2, "b");

  std::unique_ptr<Process> server = StartIperfServer(c, a);
  const std::string server_log = server->log_path();
  absl::StatusOr<CommandResult> client = absl::UnknownError("not run");
  std::thread stream([&] {
    CommandOptions options;
    options.netns = NetnsName(b.netns);
    client = RunCommand({"iperf3", "-c", a.address, "-t", "8", "-i", "1", "-J"},
                        absl::Seconds(60), options);
  });
  absl::Status streaming = WaitFor(
      [&] {
        return absl::StrContains(ReadFileOrEmpty(server_log), "Accepted connection");
      },
      absl::Seconds(10), "the stream to start");
  if (streaming.ok()) {
    REQUIRE_OK(c.router(1)->Stop(absl::Seconds(10)).status());
    c.Start(1);
    WaitForOverlay(c, {1, 2}, 1, "fastdp");
  }
  stream.join();
  REQUIRE_OK(streaming);
  REQUIRE(client.ok());
  INFO(client->stdout_data << client->stderr_data);
  REQUIRE(client->exit.success());
  nlohmann::json result = nlohmann::json::parse(client->stdout_data, nullptr, false);
  REQUIRE_FALSE(result.is_discarded());
  REQUIRE_FALSE(result.contains("error"));
  // Every second of the stream carried data: the restart never stalled it.
  for (const nlohmann::json& interval : result["intervals"]) {
    CHECK(interval["sum"]["bytes"].get<double>() > 0);
  }
  CHECK(result["end"]["sum_received"]["bytes"].get<double>() > 0);
}

}  // namespace
}  // namespace weave::testing
