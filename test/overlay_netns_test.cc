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
#include "test/weaver_fixture.h"

namespace weave::testing {
namespace {

// Echoes on TCP 7000 and UDP 7001.
constexpr char kEchoServer[] = R"(
import socket, threading
def serve(c):
    try:
        c.sendall(c.recv(200))
    finally:
        c.close()
def tcp():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 7000))
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("0.0.0.0", 7001))
threading.Thread(target=tcp, daemon=True).start()
print("serving", flush=True)
while True:
    d, a = u.recvfrom(200)
    u.sendto(d, a)
)";

// For each address given: "<address> tcp ok|fail udp ok|fail".
constexpr char kProbe[] = R"(
import socket, sys
for ip in sys.argv[1:]:
    token = ("hello " + ip).encode()
    tcp = "fail"
    for _ in range(2):
        try:
            s = socket.create_connection((ip, 7000), timeout=3)
            s.sendall(token)
            if s.recv(200) == token:
                tcp = "ok"
            s.close()
            break
        except OSError:
            pass
    udp = "fail"
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1)
    for _ in range(3):
        try:
            u.sendto(token, (ip, 7001))
            if u.recvfrom(200)[0] == token:
                udp = "ok"
                break
        except OSError:
            pass
    print(ip, "tcp", tcp, "udp", udp, flush=True)
)";

// Each node's `weave status connections` lists `peers` connections, all established on `overlay`.
void WaitForOverlay(PodCluster& c, const std::vector<int>& nodes, size_t peers,
                    const std::string& overlay, absl::Duration within = absl::Seconds(20)) {
  std::string last;
  absl::Status ok = WaitFor(
      [&] {
        for (int i : nodes) {
          last = c.Cli(i, {"status", "connections"});
          size_t good = 0;
          for (absl::string_view line : absl::StrSplit(last, '\n', absl::SkipEmpty())) {
            if (absl::StrContains(line, " established ") &&
                absl::StrContains(line, absl::StrCat(" ", overlay, " "))) {
              ++good;
            }
          }
          if (good != peers) return false;
        }
        return true;
      },
      within, absl::StrCat("every connection to be established over ", overlay));
  INFO(last);
  REQUIRE_OK(ok);
}

// The harness runs commands in a namespace given by name; pods are known by their path.
std::string NetnsName(const std::string& path) { return path.substr(path.rfind('/') + 1); }

class Pods {
 public:
  explicit Pods(PodCluster& cluster) : c_(cluster) {}

  Pod& Add(int node, const std::string& id) {
    pods_.push_back(c_.NewPod(node, id));
    Pod& pod = pods_.back();
    c_.Add(pod);
    ProcessOptions options;
    options.netns = NetnsName(pod.netns);
    options.log_path = absl::StrCat(c_.node(node).dir(), "/echo-", id, ".log");
    ASSIGN_OR_REQUIRE(std::unique_ptr<Process> server,
                      Process::Start({"python3", "-c", kEchoServer}, options));
    servers_.push_back(std::move(server));
    REQUIRE_OK(WaitFor(
        [&] { return absl::StrContains(ReadFileOrEmpty(options.log_path), "serving"); },
        absl::Seconds(10), "the pod's echo server to start"));
    return pod;
  }

  std::deque<Pod>& all() { return pods_; }

 private:
  PodCluster& c_;
  std::deque<Pod> pods_;  // a deque: Add's references stay valid
  std::vector<std::unique_ptr<Process>> servers_;
};

bool Ping(const std::string& netns_path, const std::string& address) {
  CommandOptions options;
  options.netns = NetnsName(netns_path);
  for (int attempt = 0; attempt < 2; ++attempt) {  // the first may wait for ARP
    absl::StatusOr<CommandResult> result =
        RunCommand({"ping", "-c1", "-W2", address}, absl::Seconds(5), options);
    if (result.ok() && result->exit.success()) return true;
  }
  return false;
}

// TCP and UDP probes from `netns` to `addresses`; returns the failures as text.
std::vector<std::string> Probe(const std::string& netns_path, const std::string& from,
                               const std::vector<std::string>& addresses) {
  CommandOptions options;
  options.netns = NetnsName(netns_path);
  std::vector<std::string> argv = {"python3", "-c", kProbe};
  argv.insert(argv.end(), addresses.begin(), addresses.end());
  absl::StatusOr<CommandResult> result = RunCommand(argv, absl::Seconds(120), options);
  if (!result.ok() || !result->exit.success()) {
    return {absl::StrCat(from, ": probe did not run: ",
                         result.ok() ? result->stderr_data : result.status().ToString())};
  }
  std::vector<std::string> failures;
  size_t lines = 0;
  for (absl::string_view line : absl::StrSplit(result->stdout_data, '\n', absl::SkipEmpty())) {
    ++lines;
    if (absl::StrContains(line, "fail")) failures.push_back(absl::StrCat(from, " -> ", line));
  }
  if (lines != addresses.size()) failures.push_back(absl::StrCat(from, ": missing probe lines"));
  return failures;
}

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
  c.StartAll();
  c.WaitIpamReady({1, 2, 3});
  WaitForOverlay(c, {1, 2, 3}, 2, "fastdp");
  Pods pods(c);
  CheckFullMatrix(c, pods);
  // Nothing went through user space.
  nlohmann::json report = c.Report(1);
  INFO(report.dump());
  CHECK(report["router"]["overlay"].value("sleeveTxFrames", "0") == "0");
}

TEST_CASE("3 nodes x 3 pods reach each other over sleeve", "[netns][overlay]") {
  PodCluster c(3, {{"WEAVE_NO_FASTDP", "1"}});
  c.StartAll();
  c.WaitIpamReady({1, 2, 3});
  WaitForOverlay(c, {1, 2, 3}, 2, "sleeve");
  Pods pods(c);
  CheckFullMatrix(c, pods);
  nlohmann::json report = c.Report(1);
  INFO(report.dump());
  CHECK(report["router"]["overlay"].value("sleeveTxFrames", "0") != "0");
}

TEST_CASE("a blocked VXLAN port falls back to sleeve visibly and fastdp returns",
          "[netns][overlay]") {
  // Heartbeats every 300ms (a path silent for 1.5s is given up), fastdp retried every 4s.
  PodCluster c(2, {}, {"--overlay-heartbeat", "300ms", "--fastdp-retry", "4s"});
  c.StartAll();
  c.WaitIpamReady({1, 2});
  WaitForOverlay(c, {1, 2}, 1, "fastdp");
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
  WaitForOverlay(c, {1, 2}, 1, "fastdp", absl::Seconds(8));
  CHECK(Ping(a.netns, b.address));
  CHECK(Probe(a.netns, "a", {b.address}).empty());
}

TEST_CASE("a TCP stream over fastdp survives a router restart", "[netns][overlay]") {
  PodCluster c(2);
  c.StartAll();
  c.WaitIpamReady({1, 2});
  WaitForOverlay(c, {1, 2}, 1, "fastdp");
  Pods pods(c);
  Pod& a = pods.Add(1, "a");
  Pod& b = pods.Add(2, "b");

  ProcessOptions server_options;
  server_options.netns = NetnsName(a.netns);
  server_options.log_path = absl::StrCat(c.node(1).dir(), "/iperf3-server.log");
  ASSIGN_OR_REQUIRE(std::unique_ptr<Process> server,
                    Process::Start({"iperf3", "-s", "-1", "--forceflush"}, server_options));
  REQUIRE_OK(WaitFor(
      [&] {
        return absl::StrContains(ReadFileOrEmpty(server_options.log_path), "Server listening");
      },
      absl::Seconds(10), "iperf3 to listen"));

  absl::StatusOr<CommandResult> client = absl::UnknownError("not run");
  std::thread stream([&] {
    CommandOptions options;
    options.netns = NetnsName(b.netns);
    client = RunCommand({"iperf3", "-c", a.address, "-t", "8", "-i", "0.5", "-J"},
                        absl::Seconds(60), options);
  });
  absl::Status streaming = WaitFor(
      [&] {
        return absl::StrContains(ReadFileOrEmpty(server_options.log_path), "Accepted connection");
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
  // Every half second of the stream carried data: the restart never stalled it.
  for (const nlohmann::json& interval : result["intervals"]) {
    CHECK(interval["sum"]["bytes"].get<double>() > 0);
  }
  CHECK(result["end"]["sum_received"]["bytes"].get<double>() > 0);
}

}  // namespace
}  // namespace weave::testing
