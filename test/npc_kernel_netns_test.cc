// weave-npc on the real data path beyond the conformance cases (issue 10): what it logs and
// counts when it blocks, that its table outlives its restarts, that a new deny cuts established
// connections, multicast with and without --allow-mcast, the node's own traffic to its pods, and
// a NodePort-style DNAT judged by the destination pod's policy. Each case runs on its own
// NpcCluster (npc_datapath.h): two nodes with the real weaver and weave-npc, the fake API server,
// pods attached through the real plugin, real TCP and UDP packets (npc-probe).
#include <signal.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "npc/conformance/case.h"
#include "npc/model/model.h"
#include "npc/model/parse.h"
#include "test/harness/file_util.h"
#include "test/harness/status_assertions.h"
#include "test/harness/wait_for.h"
#include "test/npc_datapath.h"
#include "test/pod_probes.h"

namespace weave::testing {
namespace {

using nlohmann::json;
using npc::Protocol;
using npc::conformance::CasePod;

// The label the API server gives every namespace, which namespaceSelectors may use.
constexpr char kNamespaceNameLabel[] = "kubernetes.io/metadata.name";

// The pods, namespaces and NetworkPolicies of one test, kept in the API server and waited for
// in both nodes' tables (KernelDataPath::Enforce) at every change. Pods are "ns/name"; each
// serves TCP and UDP on 80 and 81 (npc-probe serve).
class Scenario {
 public:
  explicit Scenario(NpcCluster& cluster) : cluster_(cluster), data_path_(cluster, {80, 81}) {}

  // Attaches the pods, puts them and their namespaces in the API and waits until both nodes
  // enforce the model with them.
  void AddPods(const std::vector<CasePod>& pods) {
    ASSIGN_OR_REQUIRE(auto addresses, data_path_.CreatePods(pods));
    for (const CasePod& pod : pods) {
      npc::Namespace& ns = model_.namespaces[pod.ns];
      ns.name = pod.ns;
      ns.labels[kNamespaceNameLabel] = pod.ns;
      npc::Pod& out = model_.pods[pod.Key()];
      out.ns = pod.ns;
      out.name = pod.name;
      out.labels = pod.labels;
      out.node = pod.node;
      out.ip = addresses.at(pod.Key());
      out.ports = pod.ports;
    }
    Enforce();
  }

  // Creates or replaces a NetworkPolicy and waits until both nodes enforce it.
  void SetPolicy(const json& policy) {
    ASSIGN_OR_REQUIRE(npc::Policy parsed, npc::ParsePolicy(policy));
    REQUIRE(parsed.problem.empty());
    policies_[parsed.Key()] = policy;
    model_.policies[parsed.Key()] = std::move(parsed);
    Enforce();
  }

  void DeletePolicy(const std::string& key) {
    policies_.erase(key);
    model_.policies.erase(key);
    Enforce();
  }

  const Pod& pod(const std::string& key) const {
    const Pod* pod = data_path_.Attached(key);
    if (pod == nullptr) FAIL("no pod " << key);
    return *pod;
  }
  const std::string& ip(const std::string& key) const { return pod(key).address; }

  // One npc-probe connect from pod `from` to `address`: '.', 'X', 'R' or 'E'.
  char Probe(const std::string& from, Protocol protocol, const std::string& address,
             uint16_t port) const {
    ASSIGN_OR_REQUIRE(std::string line,
                      NpcProbe(NetnsName(pod(from).netns), protocol, port, {address}));
    return line[0];
  }

  // `npc-probe args...` in pod `key` (see KernelDataPath::StartInPod), once its log shows
  // `ready_line` on a line of its own.
  std::unique_ptr<Process> StartInPod(const std::string& key, const std::string& label,
                                      std::vector<std::string> args,
                                      const std::string& ready_line) {
    args.insert(args.begin(), NPC_PROBE_PATH);
    ASSIGN_OR_REQUIRE(std::unique_ptr<Process> process, data_path_.StartInPod(key, label, args));
    const std::string log = process->log_path();
    REQUIRE_OK(WaitFor(
        [&] {
          return absl::StrContains(ReadFileOrEmpty(log), absl::StrCat("\n", ready_line, "\n"));
        },
        absl::Seconds(10), absl::StrCat(label, " in pod ", key, " to print \"", ready_line, "\"")));
    return process;
  }

  KernelDataPath& data_path() { return data_path_; }

  // Waits until both nodes enforce the model: after every change, and after a restart of
  // weave-npc with other options (NpcCluster::RestartNpc).
  void Enforce() { REQUIRE_OK(data_path_.Enforce(model_, policies_)); }

 private:
  NpcCluster& cluster_;
  KernelDataPath data_path_;
  npc::Model model_;
  std::map<std::string, json> policies_;
};

CasePod NewPod(const std::string& ns, const std::string& name, int node, npc::Labels labels = {}) {
  return CasePod{ns, name, std::move(labels), {}, absl::StrCat("node-", node)};
}

// A NetworkPolicy in `ns` selecting pods labelled `selector`, isolating them for ingress and
// allowing `ingress` (a list of rules, empty: deny all).
json IngressPolicy(const std::string& ns, const std::string& name, const json& selector,
                   json ingress = json::array()) {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", {{"namespace", ns}, {"name", name}}},
          {"spec",
           {{"podSelector", {{"matchLabels", selector}}},
            {"policyTypes", {"Ingress"}},
            {"ingress", std::move(ingress)}}}};
}

// One ingress rule: from pods of the policy's namespace labelled `from`, on TCP `port`.
json FromPodsOnTcp(const json& from, int port) {
  return {{"from", {{{"podSelector", {{"matchLabels", from}}}}}},
          {"ports", {{{"protocol", "TCP"}, {"port", port}}}}};
}

std::string RegexEscape(const std::string& text) {
  return absl::StrReplaceAll(text, {{".", "\\."}, {"(", "\\("}, {")", "\\)"}});
}

// The sentence weave-npc logs for a blocked packet (npc/nflog/nflog.h), any source port.
std::string BlockedLine(const std::string& protocol, const std::string& from, const std::string& to,
                        uint16_t port) {
  return absl::StrCat(protocol, " connection from ", RegexEscape(from), ":[0-9]+ to ",
                      RegexEscape(to), ":", port, " blocked by Weave NPC\\.");
}

// Waits until node i's weave-npc has logged, after byte `from` of its log, a line matching
// `pattern`; returns that line.
std::string WaitLogged(NpcCluster& cluster, int i, size_t from, const std::string& pattern,
                       absl::Duration within = absl::Seconds(10)) {
  const std::regex re(pattern);
  std::string line;
  absl::Status found = WaitFor(
      [&] {
        const std::string log = cluster.NpcLog(i);
        if (log.size() <= from) return false;
        for (absl::string_view l : absl::StrSplit(log.substr(from), '\n')) {
          if (std::regex_search(l.begin(), l.end(), re)) {
            line = std::string(l);
            return true;
          }
        }
        return false;
      },
      within, absl::StrCat("weave-npc on node ", i, " to log /", pattern, "/"));
  INFO("weave-npc log on node " << i << ":\n" << cluster.NpcLog(i).substr(from));
  REQUIRE_OK(found);
  return line;
}

double Metric(NpcCluster& cluster, int i, const std::string& series) {
  ASSIGN_OR_REQUIRE(std::string metrics, cluster.NpcMetrics(i));
  return MetricValue(metrics, series);
}

// What a helper printed after its line `marker` (e.g. the dots of `npc-probe repeat`).
std::string OutputAfter(const Process& process, const std::string& marker) {
  const std::string log = ReadFileOrEmpty(process.log_path());
  const size_t at = log.find(absl::StrCat("\n", marker, "\n"));
  if (at == std::string::npos) return "";
  std::string out = log.substr(at + marker.size() + 2);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

size_t CountOf(const std::string& text, char c) { return std::count(text.begin(), text.end(), c); }

// Waits until `count` has not grown for `quiet`; *last_growth is when it was last seen growing.
absl::Status WaitStalled(const std::function<size_t()>& count, absl::Duration quiet,
                         absl::Duration within, absl::string_view what, absl::Time* last_growth) {
  size_t last = count();
  *last_growth = absl::Now();
  return WaitFor(
      [&] {
        const size_t now = count();
        if (now != last) {
          last = now;
          *last_growth = absl::Now();
        }
        return absl::Now() - *last_growth >= quiet;
      },
      within, what);
}

std::string NftListWithHandles(NpcCluster& cluster, int i) {
  ASSIGN_OR_REQUIRE(CommandResult result,
                    cluster.node(i).Exec({"nft", "-a", "list", "table", "inet", "weave-npc"}));
  REQUIRE_OK(result.ToStatus());
  return result.stdout_data;
}

TEST_CASE("weave-npc logs and counts the TCP and UDP connections it blocks", "[netns][npc]") {
  NpcCluster cluster;
  Scenario s(cluster);
  s.AddPods({NewPod("logs", "client", 1), NewPod("logs", "server", 2, {{"app", "server"}})});
  s.SetPolicy(IngressPolicy("logs", "deny-server", {{"app", "server"}}));
  const std::string client = s.ip("logs/client");
  const std::string server = s.ip("logs/server");
  const std::string tcp_series = R"(weavenpc_blocked_connections_total{protocol="tcp",dport="80"})";
  const std::string udp_series = R"(weavenpc_blocked_connections_total{protocol="udp",dport="81"})";
  const double tcp_before = Metric(cluster, 2, tcp_series);
  const double udp_before = Metric(cluster, 2, udp_series);
  const size_t log_start = cluster.NpcLog(2).size();

  CHECK(s.Probe("logs/client", Protocol::kTcp, server, 80) == 'X');
  CHECK(s.Probe("logs/client", Protocol::kUdp, server, 81) == 'X');

  // Ingress is judged, and logged, on the server's node; the pods, and the policy whose rules did
  // not allow it, are named after the sentence.
  const std::string pods =
      R"( \(ingress from pod logs/client to pod logs/server; not allowed by the ingress rules of )"
      R"(logs/deny-server\)$)";
  std::string tcp_line =
      WaitLogged(cluster, 2, log_start, BlockedLine("TCP", client, server, 80) + pods);
  std::string udp_line =
      WaitLogged(cluster, 2, log_start, BlockedLine("UDP", client, server, 81) + pods);
  std::cout << "logged: " << tcp_line << "\nlogged: " << udp_line << std::endl;
  CHECK(Metric(cluster, 2, tcp_series) > tcp_before);
  CHECK(Metric(cluster, 2, udp_series) > udp_before);

  // What syncs cost is visible too: a gauge, and the first sync's line with where the time went.
  const double took = Metric(cluster, 2, "weavenpc_last_sync_duration_seconds");
  CHECK(took > 0);
  CHECK(took < 10);
  CHECK_THAT(cluster.NpcLog(2), Catch::Contains("applied table inet weave-npc (") &&
                                    Catch::Contains(" ms: compile "));
}

TEST_CASE("allowed connections never fail while weave-npc restarts on either node",
          "[netns][npc]") {
  NpcCluster cluster;
  Scenario s(cluster);
  s.AddPods({NewPod("load", "server", 2, {{"app", "server"}}),
             NewPod("load", "friend", 1, {{"role", "friend"}}), NewPod("load", "stranger", 1)});
  s.SetPolicy(IngressPolicy("load", "allow-friend", {{"app", "server"}},
                            {FromPodsOnTcp({{"role", "friend"}}, 80)}));
  const std::string server = s.ip("load/server");
  const std::string tables_before = NftListWithHandles(cluster, 1) + NftListWithHandles(cluster, 2);

  // A fresh connection every 20 ms; 900 ms each, so a single dropped SYN is a failure. The
  // denied pair's SYN would be answered within 200 ms if it passed.
  std::unique_ptr<Process> allowed =
      s.StartInPod("load/friend", "repeat",
                   {"repeat", "--port", "80", "--interval-ms", "20", "--timeout-ms", "900", server},
                   "repeating");
  std::unique_ptr<Process> denied =
      s.StartInPod("load/stranger", "repeat",
                   {"repeat", "--port", "80", "--interval-ms", "20", "--timeout-ms", "200", server},
                   "repeating");
  const auto results = [&] { return OutputAfter(*allowed, "repeating"); };
  const auto more_connections = [&](size_t n, absl::string_view when) {
    const size_t target = results().size() + n;
    const absl::Status made = WaitFor([&] { return results().size() >= target; }, absl::Seconds(10),
                                      absl::StrCat(n, " more connections ", when));
    const std::string so_far = results();
    INFO("allowed pair, one character per connection: " << so_far);
    REQUIRE_OK(made);
    // Fail early, at the step that broke it.
    REQUIRE(CountOf(so_far, '.') == so_far.size());
  };
  more_connections(25, "before any restart");

  for (int signal : {SIGTERM, SIGKILL}) {
    for (int node : {2, 1}) {
      INFO("weave-npc on node " << node << " stopped by " << strsignal(signal));
      REQUIRE_OK(cluster.StopNpc(node, signal));
      more_connections(25, "while weave-npc is away");
      REQUIRE_OK(cluster.StartNpc(node, {}));
      REQUIRE_OK(cluster.WaitNpcSynced(node, absl::Seconds(20)));
      more_connections(25, "after the restart");
    }
  }

  REQUIRE_OK(allowed->Stop(absl::Seconds(5)).status());
  REQUIRE_OK(denied->Stop(absl::Seconds(5)).status());
  const std::string allowed_results = OutputAfter(*allowed, "repeating");
  const std::string denied_results = OutputAfter(*denied, "repeating");
  std::cout << "allowed pair: " << allowed_results.size() << " connections, "
            << CountOf(allowed_results, '.') << " made; denied pair: " << denied_results.size()
            << " attempts, " << CountOf(denied_results, 'X') << " dropped" << std::endl;
  INFO("allowed pair, one character per connection: " << allowed_results);
  CHECK(CountOf(allowed_results, '.') == allowed_results.size());
  INFO("denied pair, one character per attempt: " << denied_results);
  CHECK(denied_results.size() >= 20);
  CHECK(CountOf(denied_results, 'X') == denied_results.size());
  // Reconciled, not flushed and rebuilt: not one chain, rule or set has a new handle.
  CHECK(NftListWithHandles(cluster, 1) + NftListWithHandles(cluster, 2) == tables_before);
}

TEST_CASE("a policy that denies an established connection cuts it and spares the allowed one",
          "[netns][npc]") {
  NpcCluster cluster;
  Scenario s(cluster);
  s.AddPods({NewPod("cut", "server", 2, {{"app", "server"}}), NewPod("cut", "doomed", 1),
             NewPod("cut", "friend", 1, {{"role", "friend"}})});
  const std::string server = s.ip("cut/server");
  std::unique_ptr<Process> echo =
      s.StartInPod("cut/server", "echo", {"serve", "--echo-tcp", "8080"}, "serving");
  const std::vector<std::string> stream = {"stream", "--port",       "8080", "--interval-ms",
                                           "100",    "--timeout-ms", "2000", server};
  std::unique_ptr<Process> doomed = s.StartInPod("cut/doomed", "stream", stream, "connected");
  std::unique_ptr<Process> spared = s.StartInPod("cut/friend", "stream", stream, "connected");
  const auto echoes = [](const std::unique_ptr<Process>& p) {
    return [&p] { return CountOf(OutputAfter(*p, "connected"), '.'); };
  };
  REQUIRE_OK(WaitFor([&] { return echoes(doomed)() >= 5 && echoes(spared)() >= 5; },
                     absl::Seconds(10), "both connections to exchange data"));

  const double deleted_before = Metric(cluster, 2, "weavenpc_denied_flows_deleted_total");
  const absl::Time denied_at = absl::Now();
  s.SetPolicy(IngressPolicy("cut", "allow-friend", {{"app", "server"}},
                            {FromPodsOnTcp({{"role", "friend"}}, 8080)}));
  // Its conntrack entry deleted, the next segment is judged as new, and dropped.
  absl::Time last_echo;
  const absl::Status stalled =
      WaitStalled(echoes(doomed), absl::Seconds(2), absl::Seconds(15),
                  "the denied connection to stop passing data", &last_echo);
  INFO("doomed, one dot per echo: " << OutputAfter(*doomed, "connected"));
  REQUIRE_OK(stalled);
  std::cout << "the denied connection's last echo came "
            << absl::FormatDuration(last_echo - denied_at)
            << " after the policy was posted (give or take a poll)" << std::endl;
  CHECK(Metric(cluster, 2, "weavenpc_denied_flows_deleted_total") > deleted_before);
  // The allowed connection goes on; a new one from the doomed pod is refused.
  const size_t spared_now = echoes(spared)();
  const absl::Status spared_goes_on =
      WaitFor([&] { return echoes(spared)() >= spared_now + 10; }, absl::Seconds(10),
              "the allowed connection to keep passing data");
  INFO("spared, one dot per echo: " << OutputAfter(*spared, "connected"));
  CHECK_OK(spared_goes_on);
  CHECK(s.Probe("cut/doomed", Protocol::kTcp, server, 8080) == 'X');
  CHECK(s.Probe("cut/friend", Protocol::kTcp, server, 8080) == '.');
}

// Multicast from a pod to a group two listener pods joined, one on its node and one on the
// other. The compiler's `ip daddr 224.0.0.0/4 accept` is in both base chains after the
// isolation check: it lets an egress-isolated pod send to a group (ingress: a group address is
// never an isolated pod). With --allow-mcast=false the ingress chain drops multicast first.
TEST_CASE("multicast passes isolation by default and is dropped with allow-mcast false",
          "[netns][npc]") {
  NpcCluster cluster;
  Scenario s(cluster);
  s.AddPods({NewPod("mcast", "sender", 1, {{"role", "sender"}}),
             NewPod("mcast", "near", 1, {{"role", "listener"}}),
             NewPod("mcast", "far", 2, {{"role", "listener"}})});
  s.SetPolicy(IngressPolicy("mcast", "deny-listeners", {{"role", "listener"}}));
  json deny_egress = IngressPolicy("mcast", "deny-sender-egress", {{"role", "sender"}});
  deny_egress["spec"] = {{"podSelector", {{"matchLabels", {{"role", "sender"}}}}},
                         {"policyTypes", {"Egress"}}};
  s.SetPolicy(deny_egress);
  // Isolation is in force for unicast.
  CHECK(s.Probe("mcast/sender", Protocol::kUdp, s.ip("mcast/near"), 80) == 'X');
  CHECK(s.Probe("mcast/near", Protocol::kUdp, s.ip("mcast/far"), 80) == 'X');

  const std::string group = "239.1.1.1";
  std::map<std::string, std::unique_ptr<Process>> listeners;
  for (const char* key : {"mcast/near", "mcast/far"}) {
    listeners[key] = s.StartInPod(
        key, "mcast", {"mcast-listen", "--group", group, "--port", "5000"}, "listening");
  }
  const auto send = [&](const std::string& payload) {
    ASSIGN_OR_REQUIRE(
        std::unique_ptr<Process> sender,
        s.data_path().StartInPod("mcast/sender", "send",
                                 {NPC_PROBE_PATH, "send", "--port", "5000", "--count", "3",
                                  "--interval-ms", "50", "--payload", payload, group}));
    ASSIGN_OR_REQUIRE(ExitStatus exit, sender->Wait(absl::Seconds(10)));
    REQUIRE(exit.success());
  };
  const auto received = [&](const std::string& key, const std::string& payload) {
    return absl::StrContains(ReadFileOrEmpty(listeners[key]->log_path()),
                             absl::StrCat("\ngot ", payload, " "));
  };

  // Default (--allow-mcast): both listeners get the group's datagrams.
  int round = 0;
  REQUIRE_OK(WaitFor(
      [&] {
        send(absl::StrCat("allowed-", ++round));
        return received("mcast/near", absl::StrCat("allowed-", round)) &&
               received("mcast/far", absl::StrCat("allowed-", round));
      },
      absl::Seconds(10), "both listeners to receive the group's datagrams"));

  // --allow-mcast=false: the sender is isolated for egress, so its multicast goes no further.
  for (int node : {1, 2}) {
    REQUIRE_OK(cluster.RestartNpc(node, SIGTERM, {.allow_mcast = false}));
    REQUIRE_OK(cluster.WaitNpcSynced(node, absl::Seconds(20)));
  }
  s.Enforce();  // the tables now hold the multicast drop
  const std::string sender = s.ip("mcast/sender");
  size_t log_start = cluster.NpcLog(1).size();
  send("egress-denied");
  WaitLogged(cluster, 1, log_start,
             BlockedLine("UDP", sender, group, 5000) +
                 R"( \(egress from pod mcast/sender; not allowed by the egress rules of )"
                 R"(mcast/deny-sender-egress\))");
  CHECK_FALSE(received("mcast/near", "egress-denied"));
  CHECK_FALSE(received("mcast/far", "egress-denied"));

  // Not isolated any more, the sender's multicast meets the ingress chain's drop. On the
  // sender's node: the bridge floods each datagram to every port, the overlay's included, and
  // every copy passes that node's forward hook, so the copy for node 2 is dropped there too.
  s.DeletePolicy("mcast/deny-sender-egress");
  log_start = cluster.NpcLog(1).size();
  send("ingress-denied");
  WaitLogged(cluster, 1, log_start,
             BlockedLine("UDP", sender, group, 5000) + R"( \(ingress from pod mcast/sender\)$)");
  CHECK_FALSE(received("mcast/near", "ingress-denied"));
  CHECK_FALSE(received("mcast/far", "ingress-denied"));
}

TEST_CASE("a node reaches its isolated pods while other pods cannot", "[netns][npc]") {
  NpcCluster cluster;
  Scenario s(cluster);
  s.AddPods({NewPod("host", "server", 2, {{"app", "server"}}), NewPod("host", "client", 2)});
  s.SetPolicy(IngressPolicy("host", "deny-server", {{"app", "server"}}));
  const std::string server = s.ip("host/server");

  // The node's route to its pods goes through the bridge, from the address weave exposes there.
  std::string exposed;
  for (absl::string_view line :
       absl::StrSplit(cluster.pods().Cli(2, {"ps"}), '\n', absl::SkipEmpty())) {
    if (!absl::StartsWith(line, "weave:expose ")) continue;
    exposed = std::string(line.substr(line.rfind(' ') + 1));
    exposed = exposed.substr(0, exposed.find('/'));
  }
  REQUIRE_FALSE(exposed.empty());
  ASSIGN_OR_REQUIRE(CommandResult route, cluster.node(2).Exec({"ip", "route", "get", server}));
  INFO(route.stdout_data);
  CHECK_THAT(route.stdout_data, Catch::Contains(absl::StrCat("dev weave src ", exposed, " ")));

  ASSIGN_OR_REQUIRE(std::string from_node,
                    NpcProbe(cluster.node(2).name(), Protocol::kTcp, 80, {server}));
  CHECK(from_node == ".");
  ASSIGN_OR_REQUIRE(from_node, NpcProbe(cluster.node(2).name(), Protocol::kUdp, 80, {server}));
  CHECK(from_node == ".");
  CHECK(s.Probe("host/client", Protocol::kTcp, server, 80) == 'X');
  CHECK(s.Probe("host/client", Protocol::kUdp, server, 80) == 'X');
}

// A NodePort as kube-proxy makes one: node 2 DNATs its port 30080 to the server pod. The
// forward hook sees the packet after the DNAT, so the server's ingress policy judges it.
TEST_CASE("a connection DNAT'd to a pod is judged by that pod's ingress policy", "[netns][npc]") {
  NpcCluster cluster;
  Scenario s(cluster);
  s.AddPods({NewPod("nodeport", "server", 2, {{"app", "server"}}),
             NewPod("nodeport", "friend", 2, {{"role", "friend"}}),
             NewPod("nodeport", "stranger", 2),
             NewPod("nodeport", "remote-friend", 1, {{"role", "friend"}})});
  s.SetPolicy(IngressPolicy("nodeport", "allow-friend", {{"app", "server"}},
                            {FromPodsOnTcp({{"role", "friend"}}, 80)}));
  const std::string server = s.ip("nodeport/server");
  NetnsNode& node = cluster.node(2);
  const std::string nat = absl::StrCat(
      "table ip weave-test-nat {\n"
      "  chain pre {\n"
      "    type nat hook prerouting priority -100; policy accept;\n"
      "    ip daddr ",
      node.address(), " tcp dport 30080 dnat to ", server,
      ":80\n"
      "  }\n"
      "}\n");
  CommandOptions input;
  input.stdin_data = nat;
  REQUIRE_OK(node.Exec({"nft", "-f", "-"}, absl::Seconds(10), input)->ToStatus());
  absl::Cleanup remove_nat = [&node] {
    (void)node.Exec({"nft", "delete", "table", "ip", "weave-test-nat"});
  };

  const size_t log_start = cluster.NpcLog(2).size();
  CHECK(s.Probe("nodeport/friend", Protocol::kTcp, node.address(), 30080) == '.');
  CHECK(s.Probe("nodeport/stranger", Protocol::kTcp, node.address(), 30080) == 'X');
  WaitLogged(cluster, 2, log_start,
             BlockedLine("TCP", s.ip("nodeport/stranger"), server, 80) +
                 R"( \(ingress from pod nodeport/stranger to pod nodeport/server; not allowed )"
                 R"(by the ingress rules of nodeport/allow-friend\))");

  // A pod on node 1 reaches node 2's address masqueraded by node 1's router (pod -> outside), as
  // kube-proxy's NodePorts are reached: the policy sees node 1's address, not the pod.
  const std::string node1 = cluster.node(1).address();
  CHECK(s.Probe("nodeport/remote-friend", Protocol::kTcp, node.address(), 30080) == 'X');
  WaitLogged(cluster, 2, log_start, BlockedLine("TCP", node1, server, 80));
  json from_node1 = FromPodsOnTcp({{"role", "friend"}}, 80);
  from_node1["from"].push_back({{"ipBlock", {{"cidr", node1 + "/32"}}}});
  s.SetPolicy(IngressPolicy("nodeport", "allow-friend", {{"app", "server"}}, {from_node1}));
  CHECK(s.Probe("nodeport/remote-friend", Protocol::kTcp, node.address(), 30080) == '.');
  CHECK(s.Probe("nodeport/stranger", Protocol::kTcp, node.address(), 30080) == 'X');

  // Once the policy allows every pod of its namespace, the stranger gets through too.
  s.SetPolicy(IngressPolicy("nodeport", "allow-friend", {{"app", "server"}},
                            {FromPodsOnTcp(json::object(), 80)}));
  CHECK(s.Probe("nodeport/stranger", Protocol::kTcp, node.address(), 30080) == '.');
}

}  // namespace
}  // namespace weave::testing
