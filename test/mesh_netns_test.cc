// The mesh between real weaver processes, one per network-namespace node: convergence, a node
// killed and restarted, an underlay partition healed, CONN_LIMIT below the cluster size,
// encryption with right and wrong passwords, the read-only status listener, and peers that
// speak the original protocol or garbage.
#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <sstream>
#include <map>
#include <regex>
#include <set>

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
#include "test/weaver_fixture.h"

namespace weave::testing {
namespace {

// Fast heartbeats so that dead links show within seconds.
const std::vector<std::string> kMeshArgs = {"--heartbeat", "500ms"};

std::string AllAddresses(NetnsCluster& cluster) {
  std::vector<std::string> addresses;
  for (int i = 1; i <= cluster.size(); ++i) addresses.push_back(cluster.node(i).address());
  return absl::StrJoin(addresses, " ");
}

Process* StartMeshNode(NetnsNode& node, const std::string& peers, Environment env = {},
                       std::vector<std::string> args = {}) {
  env.push_back({"KUBE_PEERS", peers});
  args.insert(args.end(), kMeshArgs.begin(), kMeshArgs.end());
  return StartWeaverServing(node, env, args);
}

std::string Cli(const NetnsNode& node, const std::vector<std::string>& args) {
  absl::StatusOr<CommandResult> result = WeaveCli(node, args);
  if (!result.ok() || !result->exit.success()) return "";
  return result->stdout_data;
}

nlohmann::json Report(const NetnsNode& node) {
  std::string text = Cli(node, {"report"});
  nlohmann::json report = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return report.is_discarded() ? nlohmann::json::object() : report;
}

// Every node's `weave status` shows `peers` peers, each with every other connected.
bool FullMesh(NetnsCluster& cluster, std::vector<int> nodes, std::string* last) {
  const size_t n = nodes.size();
  for (int i : nodes) {
    std::string status = Cli(cluster.node(i), {"status"});
    *last = absl::StrCat("node", i, ":\n", status);
    if (!absl::StrContains(status, absl::StrCat("Peers: ", n, " (with ", n * (n - 1),
                                                " established connections)"))) {
      return false;
    }
    if (!absl::StrContains(status, absl::StrCat("Connections: ", n - 1, " (", n - 1,
                                                " established)"))) {
      return false;
    }
  }
  return true;
}

void RequireFullMesh(NetnsCluster& cluster, std::vector<int> nodes, absl::Duration within,
                     const std::string& what) {
  std::string last;
  absl::Time start = absl::Now();
  absl::Status converged = WaitFor([&] { return FullMesh(cluster, nodes, &last); }, within, what);
  INFO(last);
  REQUIRE_OK(converged);
  WARN(what << ": " << absl::FormatDuration(absl::Now() - start));
}

std::vector<int> Range(int from, int to) {
  std::vector<int> out;
  for (int i = from; i <= to; ++i) out.push_back(i);
  return out;
}

// Drops everything between this node and `others` on the underlay, in both directions.
void Partition(NetnsNode& node, const std::vector<std::string>& others) {
  std::string set = absl::StrJoin(others, ", ");
  std::string rules = absl::StrCat(
      "table inet wvt-partition {\n"
      "  chain in { type filter hook input priority 0; ip saddr { ", set, " } drop; }\n"
      "  chain out { type filter hook output priority 0; ip daddr { ", set, " } drop; }\n"
      "}\n");
  ASSIGN_OR_REQUIRE(CommandResult added,
                    node.Exec({"nft", "-f", "-"}, absl::Seconds(10), {.stdin_data = rules}));
  REQUIRE(added.exit.success());
}

void Heal(NetnsNode& node) {
  ASSIGN_OR_REQUIRE(CommandResult removed,
                    node.Exec({"nft", "delete", "table", "inet", "wvt-partition"}));
  REQUIRE(removed.exit.success());
}

// Lines of `weave status connections` for targets at `address`.
std::string ConnectionLine(const NetnsNode& node, const std::string& address) {
  for (absl::string_view line : absl::StrSplit(Cli(node, {"status", "connections"}), '\n')) {
    if (absl::StrContains(line, address)) return std::string(line);
  }
  return "";
}

// Sends `python_bytes` (a Python bytes expression) to node's mesh port from `from`, and keeps
// the connection open for `hold_seconds`.
void SendRaw(NetnsNode& from, const NetnsNode& to, const std::string& python_bytes,
             double hold_seconds = 0.5) {
  std::string script = absl::StrCat(
      "import socket, time\n"
      "s = socket.create_connection(('", to.address(), "', 6783), timeout=5)\n"
      "try:\n"
      "  s.sendall(", python_bytes, ")\n"
      "  time.sleep(", hold_seconds, ")\n"
      "except OSError:\n"
      "  pass\n");
  ASSIGN_OR_REQUIRE(CommandResult sent, from.Exec({"python3", "-c", script}, absl::Seconds(30)));
  INFO(sent.stderr_data);
  CHECK(sent.exit.success());
}

std::string Log(const NetnsNode& node) {
  std::ifstream in(node.dir() + "/weaver.log");
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

TEST_CASE("five nodes converge and re-converge after one is killed and restarted",
          "[netns][mesh]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(5));
  const std::string peers = AllAddresses(*cluster);
  std::vector<Process*> routers;
  for (int i = 1; i <= 5; ++i) routers.push_back(StartMeshNode(cluster->node(i), peers));
  RequireFullMesh(*cluster, Range(1, 5), absl::Seconds(20), "5 peers to converge");

  // KUBE_PEERS names every node; each drops its own address and targets the other four.
  std::string status = Cli(cluster->node(1), {"status"});
  CHECK_THAT(status, Catch::Contains("Targets: 4\n"));
  std::string peer_list = Cli(cluster->node(2), {"status", "peers"});
  for (int i = 1; i <= 5; ++i) CHECK_THAT(peer_list, Catch::Contains(absl::StrCat("(node", i, ")")));
  nlohmann::json report = Report(cluster->node(3));
  CHECK(report["router"]["unicastRoutes"].size() == 5);

  // Kill node 4: the others see its target fail and keep retrying it.
  REQUIRE_OK(routers[3]->Signal(SIGKILL));
  REQUIRE_OK(routers[3]->Wait(absl::Seconds(5)));
  const std::string gone = cluster->node(4).address();
  std::string line;
  REQUIRE_OK(WaitFor(
      [&] {
        for (int i : {1, 2, 3, 5}) {
          line = ConnectionLine(cluster->node(i), gone);
          if (!std::regex_search(line, std::regex("-> " + gone + ":6783 +(failed|retrying|connecting)"))) {
            return false;
          }
        }
        return true;
      },
      absl::Seconds(10), "the others to show node 4 as failed"));
  CHECK_THAT(Cli(cluster->node(1), {"status"}), Catch::Contains("Connections: 4 (3 established, 1 "));

  // Restart it: everything re-converges.
  StartMeshNode(cluster->node(4), peers);
  RequireFullMesh(*cluster, Range(1, 5), absl::Seconds(30), "5 peers to re-converge");
}

TEST_CASE("a partitioned underlay heals and both sides re-converge", "[netns][mesh]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(4));
  const std::string peers = AllAddresses(*cluster);
  for (int i = 1; i <= 4; ++i) StartMeshNode(cluster->node(i), peers);
  RequireFullMesh(*cluster, Range(1, 4), absl::Seconds(20), "4 peers to converge");

  const std::vector<std::string> left = {cluster->node(1).address(), cluster->node(2).address()};
  const std::vector<std::string> right = {cluster->node(3).address(), cluster->node(4).address()};
  Partition(cluster->node(1), right);
  Partition(cluster->node(2), right);
  Partition(cluster->node(3), left);
  Partition(cluster->node(4), left);
  // Each side loses its routes to the other.
  std::string last;
  REQUIRE_OK(WaitFor(
      [&] {
        for (int i = 1; i <= 4; ++i) {
          nlohmann::json report = Report(cluster->node(i));
          last = report.dump();
          if (report["router"]["unicastRoutes"].size() != 2) return false;
        }
        return true;
      },
      absl::Seconds(15), "each side to route only to itself"));

  for (int i = 1; i <= 4; ++i) Heal(cluster->node(i));
  RequireFullMesh(*cluster, Range(1, 4), absl::Seconds(40), "both sides to re-converge");
}

TEST_CASE("CONN_LIMIT below the cluster size still gives one routed topology",
          "[netns][mesh]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(6));
  const std::string peers = AllAddresses(*cluster);
  for (int i = 1; i <= 6; ++i) {
    StartMeshNode(cluster->node(i), peers, {{"CONN_LIMIT", "2"}});
  }
  std::string last;
  auto settled = [&] {
    for (int i = 1; i <= 6; ++i) {
      nlohmann::json report = Report(cluster->node(i));
      last = absl::StrCat("node", i, ": ", report.dump());
      int live = 0;
      for (const auto& c : report["router"]["connections"]) {
        if (c["state"] == "established" || c["state"] == "pending") live++;
      }
      if (live > 3) return false;
      if (report["router"]["peers"].size() != 6) return false;
      if (report["router"]["unicastRoutes"].size() != 6) return false;
    }
    return true;
  };
  absl::Status held = WaitFor(settled, absl::Seconds(40), "every node to route to all 6 peers");
  INFO(last);
  REQUIRE_OK(held);
  // And it stays so (no oscillation beyond the limit).
  absl::SleepFor(absl::Seconds(2));
  CHECK(settled());
}

TEST_CASE("with a password all nodes connect encrypted and a wrong password is refused by all",
          "[netns][mesh]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(5));
  const std::string peers = AllAddresses(*cluster);
  for (int i = 1; i <= 3; ++i) {
    StartMeshNode(cluster->node(i), peers, {{"WEAVE_PASSWORD", "correct horse"}});
  }
  Process* wrong = StartMeshNode(cluster->node(4), peers, {{"WEAVE_PASSWORD", "battery staple"}});
  Process* none = StartMeshNode(cluster->node(5), peers);
  // Nodes 1-3 connect among themselves; 4 and 5 stay failed targets for them.
  std::string last;
  REQUIRE_OK(WaitFor(
      [&] {
        for (int i = 1; i <= 3; ++i) {
          last = Cli(cluster->node(i), {"status"});
          if (!absl::StrContains(last, "Peers: 3 (with 6 established connections)") ||
              !absl::StrContains(last, "Connections: 4 (2 established, 2 failed)")) {
            return false;
          }
        }
        return true;
      },
      absl::Seconds(20), "the 3 nodes with the password to converge"));

  std::string status = Cli(cluster->node(1), {"status"});
  CHECK_THAT(status, Catch::Contains("Encryption: enabled"));
  CHECK_THAT(status, Catch::Contains("Peers: 3 "));
  std::string connections = Cli(cluster->node(1), {"status", "connections"});
  // Either end may have dialled the connection that was kept: any port.
  CHECK(std::regex_search(connections, std::regex(cluster->node(2).address() +
                                                  ":[0-9]+ +established encrypted ")));
  // The odd ones out see themselves alone, and show the others' targets as failed.
  CHECK_THAT(Cli(cluster->node(4), {"status"}), Catch::Contains("Peers: 1\n"));
  REQUIRE_OK(WaitFor([&] { return absl::StrContains(ConnectionLine(cluster->node(4), cluster->node(1).address()), "failed"); },
                     absl::Seconds(10), "node 4 to show node 1 failed"));
  CHECK_THAT(ConnectionLine(cluster->node(4), cluster->node(1).address()),
             Catch::Contains("passwords differ"));
  CHECK_THAT(Log(cluster->node(1)), Catch::Contains("passwords differ"));
  CHECK_THAT(Log(cluster->node(5)), Catch::Contains("it uses a password but we have none"));
  CHECK_THAT(Log(cluster->node(1)), Catch::Contains("it has no password but we have one"));
  // Nothing crashed, and the password never shows.
  CHECK_FALSE(wrong->Wait(absl::ZeroDuration()).ok());
  CHECK_FALSE(none->Wait(absl::ZeroDuration()).ok());
  for (int i = 1; i <= 5; ++i) {
    CHECK_THAT(Log(cluster->node(i)), !Catch::Contains("correct horse"));
    CHECK_THAT(Cli(cluster->node(i), {"report"}), !Catch::Contains("correct horse"));
  }
}

TEST_CASE("the original protocol and garbage and stalled handshakes are dropped with a log line",
          "[netns][mesh]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(3));
  const std::string peers = absl::StrCat(cluster->node(1).address(), " ", cluster->node(2).address());
  Process* router = StartMeshNode(cluster->node(1), peers);
  StartMeshNode(cluster->node(2), peers);
  RequireFullMesh(*cluster, {1, 2}, absl::Seconds(20), "2 peers to converge");
  NetnsNode& attacker = cluster->node(3);
  NetnsNode& target = cluster->node(1);

  // An original Weave Net 2.x peer: its 7-byte header, then its (gob) features.
  SendRaw(attacker, target, "b'weave\\x01\\x02\\x00' + b'\\x1f' * 40");
  REQUIRE_OK(WaitFor([&] { return absl::StrContains(Log(target), "original Weave Net 2.x protocol"); },
                     absl::Seconds(5), "the refusal of the original protocol"));
  // Random bytes, a truncated header, our header then an oversized frame, a header then
  // garbage frames.
  SendRaw(attacker, target, "bytes(range(256)) * 4");
  SendRaw(attacker, target, "b'weave-c'");
  SendRaw(attacker, target, "b'weave-cc\\x01\\x02' + b'\\xff\\xff\\xff\\xff'");
  SendRaw(attacker, target, "b'weave-cc\\x01\\x02' + b'\\x00\\x00\\x00\\x05hello'");
  // A handshake that stalls holds only its own thread, until the handshake deadline.
  std::string stall = absl::StrCat(
      "import socket, time\n"
      "s = [socket.create_connection(('", target.address(), "', 6783)) for _ in range(30)]\n"
      "for c in s: c.sendall(b'weave-cc\\x01\\x02')\n"
      "time.sleep(3)\n");
  ASSIGN_OR_REQUIRE(Process * staller, attacker.Start("staller", {"python3", "-c", stall}));
  std::string log;
  REQUIRE_OK(WaitFor(
      [&] {
        log = Log(target);
        return absl::StrContains(log, "not a Weave Net peer") &&
               absl::StrContains(log, "exceeds") ;
      },
      absl::Seconds(10), "log lines for the garbage"));
  // Meanwhile the router answers and keeps its peer.
  std::string last;
  CHECK(FullMesh(*cluster, {1, 2}, &last));
  REQUIRE_OK(staller->Wait(absl::Seconds(10)));
  CHECK_FALSE(router->Wait(absl::ZeroDuration()).ok());  // still running
  CHECK(FullMesh(*cluster, {1, 2}, &last));
}

TEST_CASE("WEAVE_STATUS_ADDR serves the CLI text read-only and nothing listens without it",
          "[netns][mesh]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(2));
  const std::string peers = AllAddresses(*cluster);
  const std::string status_addr = absl::StrCat(cluster->node(1).address(), ":6788");
  StartMeshNode(cluster->node(1), peers, {{"WEAVE_STATUS_ADDR", status_addr}});
  StartMeshNode(cluster->node(2), peers);
  RequireFullMesh(*cluster, {1, 2}, absl::Seconds(20), "2 peers to converge");

  auto get = [&](const std::string& path) {
    absl::StatusOr<CommandResult> got = cluster->node(2).Exec(
        {"curl", "-s", "--max-time", "5", absl::StrCat("http://", status_addr, path)});
    return got.ok() && got->exit.success() ? got->stdout_data : std::string("(failed)");
  };
  // The CLI puts blank lines around the main block.
  CHECK(absl::StrCat("\n", get("/status"), "\n") == Cli(cluster->node(1), {"status"}));
  for (const char* sub : {"peers", "connections", "ipam", "targets"}) {
    CHECK(get(absl::StrCat("/status/", sub)) == Cli(cluster->node(1), {"status", sub}));
  }
  CHECK_THAT(get("/report"), Catch::Contains("\"unicastRoutes\""));
  CHECK_THAT(get("/metrics"), Catch::Contains("weave_connections{state=\"established\""));
  // Read-only: no control routes there.
  ASSIGN_OR_REQUIRE(CommandResult post, cluster->node(2).Exec(
      {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
       absl::StrCat("http://", status_addr, "/connect")}));
  CHECK(post.stdout_data != "200");

  // Node 2 has no status address: only the mesh, the metrics and the loopback status listen.
  ASSIGN_OR_REQUIRE(CommandResult listening, cluster->node(2).Exec({"ss", "-Hltn"}));
  std::set<std::string> local;
  for (absl::string_view line : absl::StrSplit(listening.stdout_data, '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() >= 4) local.insert(fields[3]);
  }
  CHECK(local == std::set<std::string>{"0.0.0.0:6783", "0.0.0.0:6782", "127.0.0.1:6784"});
}

TEST_CASE("weave connect and forget change the targets", "[netns][mesh]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(3));
  for (int i = 1; i <= 3; ++i) StartMeshNode(cluster->node(i), "", {}, {"--no-discovery"});
  std::string last;
  CHECK_FALSE(FullMesh(*cluster, {1, 2}, &last));
  ASSIGN_OR_REQUIRE(CommandResult bad, WeaveCli(cluster->node(1), {"connect", "not a:peer:1"}));
  CHECK_FALSE(bad.exit.success());
  CHECK(Cli(cluster->node(1), {"status", "targets"}).empty());

  REQUIRE(WeaveCli(cluster->node(1), {"connect", cluster->node(2).address(), cluster->node(3).address()})
              ->exit.success());
  CHECK(Cli(cluster->node(1), {"status", "targets"}) ==
        absl::StrCat(cluster->node(2).address(), ":6783\n", cluster->node(3).address(), ":6783\n"));
  // Without discovery, 2 and 3 only know node 1, yet all three peers are known everywhere.
  REQUIRE_OK(WaitFor([&] {
    return absl::StrContains(Cli(cluster->node(2), {"status"}), "Peers: 3 (with 4 established connections)");
  }, absl::Seconds(15), "a star of three"));
  REQUIRE(WeaveCli(cluster->node(1), {"forget", cluster->node(3).address()})->exit.success());
  CHECK(Cli(cluster->node(1), {"status", "targets"}) == absl::StrCat(cluster->node(2).address(), ":6783\n"));
}

TEST_CASE("two peers with the same name report the collision and stop dialling",
          "[netns][mesh]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(2));
  const std::string peers = AllAddresses(*cluster);
  for (int i = 1; i <= 2; ++i) {
    StartMeshNode(cluster->node(i), peers, {{"IPALLOC_INIT", "consensus=1"}},
                  {"--name", "00:00:00:00:00:07"});
  }
  REQUIRE_OK(WaitFor([&] {
    return absl::StrContains(Log(cluster->node(1)), "Peer name collision") &&
           absl::StrContains(Log(cluster->node(2)), "Peer name collision");
  }, absl::Seconds(10), "both to report the collision"));
  CHECK_THAT(Log(cluster->node(1)), Catch::Contains("give every node its own machine-id or --name"));
  CHECK_THAT(Cli(cluster->node(1), {"status"}), Catch::Contains("Peers: 1\n"));
  // Not retried: the collision is logged once per connection attempt, and when both sides
  // dial at the same moment a side sees two (its own dial and the other's), never more.
  const std::string log = Log(cluster->node(1));
  size_t count = 0;
  for (size_t at = log.find("Peer name collision"); at != std::string::npos;
       at = log.find("Peer name collision", at + 1)) {
    ++count;
  }
  CHECK(count <= 2);
}

TEST_CASE("peers learned through gossip are connected to", "[netns][mesh]") {
  ASSIGN_OR_REQUIRE(auto cluster, NetnsCluster::Create(4));
  StartMeshNode(cluster->node(1), "");
  for (int i = 2; i <= 4; ++i) StartMeshNode(cluster->node(i), cluster->node(1).address());
  // Each leaf only names node 1, and still ends up connected to every other leaf.
  RequireFullMesh(*cluster, Range(1, 4), absl::Seconds(20), "a full mesh through discovery");
  CHECK_THAT(Cli(cluster->node(2), {"status"}), Catch::Contains("Targets: 1\n"));
}

}  // namespace
}  // namespace weave::testing
