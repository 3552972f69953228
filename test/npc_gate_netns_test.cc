// The policy gate (EXPECT_NPC=1) with the real weaver and pods attached through the real
// weave-net plugin on one node: new connections between the pods are dropped until weave-npc
// reports its first full sync (here a fake report over the router's socket) naming them
// enforced, a pod attached later waits for a report naming it (the per-pod gate), the node's own
// connections to its pods never wait, and the gate's state survives a router restart without a
// new report; the real weave-npc opens it too, for pods the API knows without an address (early
// pods). With EXPECT_NPC=0 there is no gate.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "test/harness/file_util.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"
#include "test/pod_cluster.h"
#include "test/pod_probes.h"
#include "test/weaver_fixture.h"
#include "weave/router.grpc.pb.h"

namespace weave::testing {
namespace {

// One new TCP connection to the echo server (pod_probes.h) at argv[1]: "ok", or the error's
// name ("TimeoutError" when something drops the SYN).
constexpr char kConnect[] = R"py(
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], 7000), timeout=2)
    s.sendall(b"gate")
    print("ok" if s.recv(10) == b"gate" else "bad echo")
except OSError as e:
    print(type(e).__name__)
)py";

std::string Connect(const std::string& netns_path, const std::string& address) {
  CommandOptions options;
  options.netns = NetnsName(netns_path);
  absl::StatusOr<CommandResult> result =
      RunCommand({"python3", "-c", kConnect, address}, absl::Seconds(10), options);
  if (!result.ok()) return result.status().ToString();
  return std::string(absl::StripAsciiWhitespace(result->stdout_data));
}

std::string NodeNetns(PodCluster& c, int i) {
  return absl::StrCat("/run/netns/", c.node(i).name());
}

// What weave-npc sends after a sync, through the generated client as weave-npc would: `enforced`
// are the pods whose policies it has in the kernel.
v1::ReportPolicyStatusResponse ReportPolicyStatus(const NetnsNode& node, bool first_sync_done,
                                                  const std::vector<const Pod*>& enforced = {}) {
  v1::PolicyStatus report;
  report.set_first_sync_done(first_sync_done);
  for (const Pod* pod : enforced) report.add_enforced_pods(pod->address);
  report.set_policies(2);
  report.add_rejected_policies("default/odd: a named port no pod has");
  report.set_rules(7);
  report.set_chains(4);
  report.set_sets(5);
  report.set_last_sync_unix_seconds(absl::ToUnixSeconds(absl::Now()));
  std::unique_ptr<v1::Router::Stub> stub = v1::Router::NewStub(grpc::CreateChannel(
      absl::StrCat("unix://", node.socket_path()), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::ReportPolicyStatusResponse response;
  grpc::Status status = stub->ReportPolicyStatus(&context, report, &response);
  INFO(status.error_message());
  REQUIRE(status.ok());
  return response;
}

std::string Metrics(PodCluster& c) {
  absl::StatusOr<CommandResult> metrics =
      c.node(1).Exec({"curl", "-s", absl::StrCat("http://", c.node(1).address(), ":6782/metrics")});
  return metrics.ok() ? metrics->stdout_data : "";
}

std::string RouterTable(PodCluster& c) {
  absl::StatusOr<CommandResult> table = c.node(1).Exec({"nft", "list", "table", "inet", "weave"});
  return table.ok() ? table->stdout_data : "";
}

// Waits for a new connection from `from` to `to` to go through.
void RequireConnects(const Pod& from, const Pod& to, absl::Duration within = absl::Seconds(10)) {
  std::string last;
  absl::Status connected =
      WaitFor([&] { return (last = Connect(from.netns, to.address)) == "ok"; }, within,
              absl::StrCat("a connection from pod ", from.id, " to pod ", to.id));
  INFO(last);
  REQUIRE_OK(connected);
}

TEST_CASE(
    "the policy gate holds new connections to pods until weave-npc's first sync, and "
    "stays open across a router restart",
    "[netns]") {
  PodCluster c(1, {{"EXPECT_NPC", "1"}});
  // Bridged pod traffic meets the forward hook through br_netfilter; with EXPECT_NPC the router
  // turns it on in its namespace.
  (void)RunCommand({"modprobe", "br_netfilter"}, absl::Seconds(10));  // may be built in
  REQUIRE_OK(
      c.node(1).Exec({"sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=0"})->ToStatus());
  c.StartAll();
  c.WaitIpamReady({1});
  Pods pods(c);
  Pod& a = pods.Add(1, "a");  // once the node's network is set up
  Pod& b = pods.Add(1, "b");
  ASSIGN_OR_REQUIRE(CommandResult bridge_nf,
                    c.node(1).Exec({"sysctl", "-n", "net.bridge.bridge-nf-call-iptables"}));
  CHECK(bridge_nf.stdout_data == "1\n");

  // Closed: the SYN is dropped (a timeout, not a refusal), both ways between the pods.
  CHECK(Connect(b.netns, a.address) == "TimeoutError");
  CHECK(Connect(a.netns, b.address) == "TimeoutError");
  // The node's own connections (kubelet probes) never pass the forward hook.
  CHECK(Connect(NodeNetns(c, 1), a.address) == "ok");
  std::string status = c.Cli(1, {"status"});
  CHECK_THAT(status, Catch::Contains("        Service: npc\n"
                                     "         Status: waiting for weave-npc's first sync (new "
                                     "connections to local pods are blocked)\n"));
  CHECK(c.Report(1)["npcGate"] ==
        nlohmann::json{{"expected", true}, {"open", false}, {"pendingPods", 2}});
  CHECK_THAT(Metrics(c), Catch::Contains("weave_npc_gate_open 0\n"));
  // As nft(8) lists it.
  const std::string closed = RouterTable(c);
  CHECK_THAT(closed,
             Catch::Contains("\tset npc-ready {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t}\n"));
  CHECK_THAT(closed, Catch::Contains(
                         "\tchain forward {\n"
                         "\t\ttype filter hook forward priority filter; policy accept;\n"
                         "\t\tip daddr != @npc-ready ip daddr @local-pods ct state new log prefix "
                         "\"weave-gate: \" group 86 drop comment \"EXPECT_NPC: new connections to "
                         "local pods wait for the first sync of weave-npc\"\n"
                         "\t\tip daddr @npc-pending ct state new log prefix \"weave-gate: \" "
                         "group 86 drop comment \"EXPECT_NPC: a new pod is reachable once "
                         "weave-npc enforces its policies\"\n"
                         "\t\tip saddr @npc-pending ct state new log prefix \"weave-gate: \" "
                         "group 86 drop comment \"EXPECT_NPC: a new pod reaches out once "
                         "weave-npc enforces its policies\"\n\t}\n"));

  // A report before the first sync leaves it closed.
  CHECK_FALSE(ReportPolicyStatus(c.node(1), false).gate_open());
  CHECK(Connect(b.netns, a.address) == "TimeoutError");

  // The first full sync opens it, for the pods it names: b still waits, both ways.
  CHECK(ReportPolicyStatus(c.node(1), true, {&a}).gate_open());
  CHECK(Connect(b.netns, a.address) == "TimeoutError");
  CHECK(Connect(a.netns, b.address) == "TimeoutError");
  CHECK_THAT(c.Cli(1, {"status"}),
             Catch::Contains("    PendingPods: 1 (new connections wait for weave-npc)\n"));
  CHECK(ReportPolicyStatus(c.node(1), true, {&a, &b}).gate_open());
  RequireConnects(b, a);
  RequireConnects(a, b);
  CHECK_THAT(RouterTable(c), Catch::Contains("elements = { 0.0.0.0/0 }"));
  status = c.Cli(1, {"status"});
  INFO(status);
  CHECK_THAT(status, Catch::Contains("        Service: npc\n"
                                     "         Status: ready\n"
                                     "       Policies: 2 (1 unenforceable)\n"
                                     "          Rules: 7 in 4 chains\n"
                                     "           Sets: 5\n"
                                     "       LastSync: "));
  nlohmann::json report = c.Report(1);
  CHECK(report["npcGate"]["open"] == true);
  CHECK(report["npc"]["firstSyncDone"] == true);
  CHECK(report["npc"]["policies"] == 2);
  CHECK_THAT(Metrics(c), Catch::Contains("weave_npc_gate_open 1\n"));
  CHECK_THAT(Metrics(c), Catch::Contains("weave_npc_pending_pods 0\n"));

  // A pod attached now waits at the gate until weave-npc names it, in and out.
  Pod& d = pods.Add(1, "d");
  CHECK(Connect(a.netns, d.address) == "TimeoutError");
  CHECK(Connect(d.netns, a.address) == "TimeoutError");
  CHECK_THAT(Metrics(c), Catch::Contains("weave_npc_pending_pods 1\n"));

  // weave-npc restarting reports an unfinished sync: the gate does not close.
  CHECK(ReportPolicyStatus(c.node(1), false).gate_open());
  RequireConnects(b, a, absl::Seconds(3));

  // The router stops (a rolling update): its table stays, and so does the open gate, and d
  // still waits.
  REQUIRE_OK(c.router(1)->Stop(absl::Seconds(10)).status());
  RequireConnects(b, a, absl::Seconds(3));
  // The new router finds it open and keeps it so, with no report from weave-npc.
  c.Start(1);
  REQUIRE_OK(WaitFor([&] { return c.Report(1)["ready"] == true; }, absl::Seconds(20),
                     "the restarted router to be ready (its table installed)"));
  RequireConnects(b, a, absl::Seconds(3));
  RequireConnects(a, b, absl::Seconds(3));
  CHECK_THAT(RouterTable(c), Catch::Contains("elements = { 0.0.0.0/0 }"));
  CHECK(Connect(a.netns, d.address) == "TimeoutError");
  CHECK(c.Report(1)["npcGate"]["pendingPods"] == 1);
  CHECK_THAT(c.Cli(1, {"status"}),
             Catch::Contains("        Service: npc\n"
                             "         Status: waiting for weave-npc to report (the gate is open "
                             "since an earlier sync)\n"));
  CHECK_THAT(Metrics(c), Catch::Contains("weave_npc_gate_open 1\n"));
  // weave-npc's next report names d.
  CHECK(ReportPolicyStatus(c.node(1), true, {&a, &b, &d}).gate_open());
  RequireConnects(a, d, absl::Seconds(3));
  RequireConnects(d, a, absl::Seconds(3));
}

TEST_CASE("the real weave-npc's first sync opens the gate", "[netns]") {
  PodCluster c(1, {{"EXPECT_NPC", "1"}});
  c.StartAll();
  c.WaitIpamReady({1});
  Pods pods(c);
  Pod& a = pods.Add(1, "a");
  Pod& b = pods.Add(1, "b");
  CHECK(Connect(b.netns, a.address) == "TimeoutError");

  // An API server with no NetworkPolicy: nothing is isolated once weave-npc has synced. It has
  // the pods without their addresses (kubelet has not reported them): weave-npc takes those
  // from the router's endpoint stream.
  NetnsNode& node = c.node(1);
  const std::string api_dir = node.dir() + "/apiserver";
  std::filesystem::create_directories(api_dir);
  nlohmann::json seed = nlohmann::json::array(
      {{{"apiVersion", "v1"},
        {"kind", "Namespace"},
        {"metadata",
         {{"name", "default"}, {"labels", {{"kubernetes.io/metadata.name", "default"}}}}}}});
  for (const char* name : {"a", "b", "e"}) {
    seed.push_back({{"apiVersion", "v1"},
                    {"kind", "Pod"},
                    {"metadata",
                     {{"namespace", "default"},
                      {"name", name},
                      {"labels", {{"app", name == std::string("e") ? "locked" : "open"}}}}},
                    {"spec", {{"nodeName", "node1"}, {"containers", {{{"name", "c"}}}}}},
                    {"status", {{"phase", "Pending"}}}});
  }
  // Pod e, attached later, is isolated for ingress.
  seed.push_back({{"apiVersion", "networking.k8s.io/v1"},
                  {"kind", "NetworkPolicy"},
                  {"metadata", {{"namespace", "default"}, {"name", "lock-e"}}},
                  {"spec",
                   {{"podSelector", {{"matchLabels", {{"app", "locked"}}}}},
                    {"policyTypes", {"Ingress"}}}}});
  std::ofstream(api_dir + "/seed.json") << seed;
  REQUIRE_OK(node.Start("fake-apiserver",
                        {FAKE_APISERVER_PATH, "--dir", api_dir, "--listen-host", node.address(),
                         "--port", "6443", "--ip", node.address(), "--token", "gate-test-token",
                         "--seed", api_dir + "/seed.json", "--quiet"})
                 .status());
  REQUIRE_OK(WaitFor([&] { return std::filesystem::exists(api_dir + "/kubeconfig"); },
                     absl::Seconds(20), "the fake API server to listen"));
  ASSIGN_OR_REQUIRE(
      Process * npc,
      node.Start("weave-npc",
                 {WEAVE_NPC_PATH, "--kubeconfig", api_dir + "/kubeconfig", "--node-name", "node1",
                  "--metrics-addr", "127.0.0.1:6781", "--socket", node.socket_path()}));
  RequireConnects(b, a, absl::Seconds(30));
  RequireConnects(a, b);
  CHECK(c.Report(1)["npcGate"]["pendingPods"] == 0);
  CHECK_THAT(c.Cli(1, {"status"}), Catch::Contains("        Service: npc\n"
                                                   "         Status: ready\n"
                                                   "       Policies: 1\n"));

  // A pod whose address the API does not have is protected by its policy from its first
  // packet: first the gate holds it, then weave-npc's rules (from the endpoint stream) do.
  Pod& e = pods.Add(1, "e");
  CHECK(Connect(a.netns, e.address) == "TimeoutError");
  REQUIRE_OK(WaitFor([&] { return c.Report(1)["npcGate"]["pendingPods"] == 0; },
                     absl::Seconds(10), "weave-npc to report pod e enforced"));
  CHECK(Connect(a.netns, e.address) == "TimeoutError");
  RequireConnects(e, a, absl::Seconds(3));  // its egress is not isolated
  ASSIGN_OR_REQUIRE(CommandResult selected,
                    node.Exec({"nft", "list", "set", "inet", "weave-npc", "in.default.lock-e.sel"}));
  CHECK_THAT(selected.stdout_data, Catch::Contains(e.address));
  // weave-npc's line for the drop names the pods and the policy whose rules did not allow it.
  const auto logged = [npc](const std::string& text) {
    return WaitFor([&] { return absl::StrContains(ReadFileOrEmpty(npc->log_path()), text); },
                   absl::Seconds(10), absl::StrCat("weave-npc to log \"", text, "\""));
  };
  REQUIRE_OK(logged(absl::StrCat(
      " to ", e.address, ":7000",
      " blocked by Weave NPC. (ingress from pod default/a to pod default/e; not allowed by the "
      "ingress rules of default/lock-e)")));
  // A pod the API never names stays at the gate (fail closed), and weave-npc's line for what the
  // router's gate dropped says so.
  Pod& ghost = pods.Add(1, "ghost");
  CHECK(Connect(a.netns, ghost.address) == "TimeoutError");
  REQUIRE_OK(logged(absl::StrCat(
      " to ", ghost.address, ":7000",
      " blocked by Weave NPC. (new pod held at the router's gate until weave-npc applies its "
      "policy: from pod default/a)")));
  CHECK(c.Report(1)["npcGate"]["pendingPods"] == 1);
  // weave-npc goes away (an update): the gate stays open.
  REQUIRE_OK(npc->Stop(absl::Seconds(10)).status());
  RequireConnects(b, a, absl::Seconds(3));
}

TEST_CASE("with EXPECT_NPC=0 there is no gate", "[netns]") {
  PodCluster c(1, {{"EXPECT_NPC", "0"}});
  c.StartAll();
  c.WaitIpamReady({1});
  Pods pods(c);
  Pod& a = pods.Add(1, "a");
  Pod& b = pods.Add(1, "b");
  RequireConnects(b, a, absl::Seconds(5));
  RequireConnects(a, b, absl::Seconds(5));
  const std::string table = RouterTable(c);
  CHECK_THAT(table, Catch::Contains("table inet weave"));
  CHECK_THAT(table, !Catch::Contains("npc-ready"));
  CHECK_THAT(table, !Catch::Contains("hook forward"));
  CHECK_THAT(c.Cli(1, {"status"}), !Catch::Contains("Service: npc"));
  CHECK_THAT(Metrics(c), Catch::Contains("weave_npc_gate_open 1\n"));
}

}  // namespace
}  // namespace weave::testing
