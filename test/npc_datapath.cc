#include "test/npc_datapath.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/nft/ruleset.h"
#include "npc/compiler/compiler.h"
#include "test/harness/file_util.h"
#include "test/harness/status_assertions.h"
#include "test/harness/wait_for.h"
#include "test/pod_probes.h"

namespace weave::testing {
namespace {

using nlohmann::json;

constexpr char kToken[] = "npc-conformance-token";
constexpr int kApiPort = 6443;
constexpr int kProbeTimeoutMs = 700;
constexpr absl::Duration kEnforceWithin = absl::Seconds(20);

std::string ProtocolName(npc::Protocol protocol) {
  return std::string(npc::conformance::ProtocolName(protocol));
}

json LabelsObject(const npc::Labels& labels) {
  json out = json::object();
  for (const auto& [key, value] : labels) out[key] = value;
  return out;
}

json NamespaceObject(const npc::Namespace& ns) {
  return {{"apiVersion", "v1"},
          {"kind", "Namespace"},
          {"metadata", {{"name", ns.name}, {"labels", LabelsObject(ns.labels)}}}};
}

json PodObject(const npc::Pod& pod) {
  json ports = json::array();
  for (const npc::ContainerPort& port : pod.ports) {
    json out = {{"containerPort", port.port}, {"protocol", ProtocolName(port.protocol)}};
    if (!port.name.empty()) out["name"] = port.name;
    ports.push_back(out);
  }
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"namespace", pod.ns}, {"name", pod.name}, {"labels", LabelsObject(pod.labels)}}},
          {"spec",
           {{"nodeName", KernelDataPath::NodeName(pod.node)},
            {"containers", {{{"name", "serve"}, {"image", "npc-probe"}, {"ports", ports}}}}}},
          {"status", {{"phase", "Running"}, {"podIP", pod.ip->ToString()}}}};
}

// The case's object as kubectl would send it: apiVersion and kind may be left out in a case.
json PolicyObject(json policy) {
  if (!policy.contains("apiVersion")) policy["apiVersion"] = "networking.k8s.io/v1";
  if (!policy.contains("kind")) policy["kind"] = "NetworkPolicy";
  return policy;
}

// `model` with the runner's node names replaced by weave-npc's.
npc::Model AsWeaveNpcSeesIt(npc::Model model) {
  for (auto& [key, pod] : model.pods) pod.node = KernelDataPath::NodeName(pod.node);
  return model;
}

// A table's listing with its sets and chains sorted: nft lists them in the order they were
// created, which for weave-npc's incremental updates is not the compiler's order. Rules keep
// their order (it matters); blank lines between blocks go.
std::string SortedBlocks(const std::string& listing) {
  std::vector<std::string> blocks;
  std::string head, tail, block;
  bool in_block = false;
  for (absl::string_view line : absl::StrSplit(listing, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "\tset ") || absl::StartsWith(line, "\tchain ")) in_block = true;
    if (in_block) {
      absl::StrAppend(&block, line, "\n");
      if (line == "\t}") {
        blocks.push_back(std::move(block));
        block.clear();
        in_block = false;
      }
    } else if (blocks.empty()) {
      absl::StrAppend(&head, line, "\n");
    } else {
      absl::StrAppend(&tail, line, "\n");
    }
  }
  std::sort(blocks.begin(), blocks.end());
  return absl::StrCat(head, absl::StrJoin(blocks, ""), block, tail);
}

// The lines of `a` that `b` lacks, each prefixed with `mark`.
std::string MissingLines(const std::string& a, const std::string& b, absl::string_view mark) {
  std::multiset<std::string> in_b;
  for (absl::string_view line : absl::StrSplit(b, '\n')) in_b.insert(std::string(line));
  std::string out;
  for (absl::string_view line : absl::StrSplit(a, '\n')) {
    auto it = in_b.find(std::string(line));
    if (it == in_b.end()) {
      absl::StrAppend(&out, mark, line, "\n");
    } else {
      in_b.erase(it);
    }
  }
  return out;
}

}  // namespace

// EXPECT_NPC=1, as deployed with weave-npc: the router sets bridge-nf-call-iptables (without it
// bridged traffic between pods of one node never meets table inet weave-npc) and holds new
// connections to pods until weave-npc's first sync.
NpcCluster::NpcCluster() : pods_(kNodes, {{"EXPECT_NPC", "1"}}) {
  StartAndSettle(pods_, "fastdp");
  api_dir_ = pods_.netns().work_dir() + "/apiserver";
  std::filesystem::create_directories(api_dir_);
  std::ofstream(api_dir_ + "/seed.json") << "[]";
  // Stateless: nothing restarts it, and a state file is the whole store written again at every
  // change (30 ms at 1,300 objects, before watchers hear of it).
  ASSIGN_OR_REQUIRE(
      Process * api,
      node(1).Start("fake-apiserver",
                    {FAKE_APISERVER_PATH, "--dir", api_dir_, "--listen-host", node(1).address(),
                     "--port", std::to_string(kApiPort), "--ip", node(1).address(), "--token",
                     kToken, "--seed", api_dir_ + "/seed.json", "--quiet", "--stateless"}));
  (void)api;
  REQUIRE_OK(WaitFor([&] { return std::filesystem::exists(api_dir_ + "/kubeconfig"); },
                     absl::Seconds(20), "the fake API server to listen"));
  for (int i = 1; i <= kNodes; ++i) REQUIRE_OK(LaunchNpc(i));
  REQUIRE_OK(WaitEnforced(npc::Model{}, kEnforceWithin));
}

absl::Status NpcCluster::LaunchNpc(int i) {
  std::vector<std::string> argv = {WEAVE_NPC_PATH, "--kubeconfig", api_dir_ + "/kubeconfig"};
  argv.insert(argv.end(), {"--node-name", absl::StrCat("node", i)});
  argv.insert(argv.end(), {"--metrics-addr", kNpcMetricsAddress});
  argv.insert(argv.end(), {"--socket", node(i).socket_path()});
  if (!options_[i].allow_mcast) argv.push_back("--allow-mcast=false");
  absl::StatusOr<Process*> npc = node(i).Start("weave-npc", argv);
  if (!npc.ok()) return npc.status();
  npcs_[i] = *npc;
  return absl::OkStatus();
}

std::string NpcCluster::NpcLog(int i) { return ReadFileOrEmpty(npcs_.at(i)->log_path()); }

absl::StatusOr<std::string> NpcCluster::NpcMetrics(int i) {
  absl::StatusOr<CommandResult> result = node(i).Exec(
      {"curl", "-sS", "--max-time", "5", absl::StrCat("http://", kNpcMetricsAddress, "/metrics")},
      absl::Seconds(10));
  if (!result.ok()) return result.status();
  if (absl::Status status = result->ToStatus(); !status.ok()) return status;
  return result->stdout_data;
}

absl::Status NpcCluster::StopNpc(int i, int signal) {
  Process* npc = npcs_.at(i);
  if (signal == SIGTERM) {
    absl::StatusOr<ExitStatus> exit = npc->Stop(absl::Seconds(10));
    if (!exit.ok()) return exit.status();
    if (!exit->success()) {
      return absl::InternalError(absl::StrCat(
          "weave-npc on node ", i, " did not stop cleanly on SIGTERM: ", exit->ToString()));
    }
    return absl::OkStatus();
  }
  if (absl::Status sent = npc->Signal(signal); !sent.ok()) return sent;
  return npc->Wait(absl::Seconds(10)).status();
}

absl::Status NpcCluster::StartNpc(int i, NpcOptions options) {
  options_[i] = options;
  if (absl::Status started = LaunchNpc(i); !started.ok()) return started;
  return WaitFor([&] { return NpcMetrics(i).ok(); }, absl::Seconds(10),
                 absl::StrCat("weave-npc on node ", i, " to serve its metrics"));
}

absl::Status NpcCluster::RestartNpc(int i, int signal, NpcOptions options) {
  if (absl::Status stopped = StopNpc(i, signal); !stopped.ok()) return stopped;
  return StartNpc(i, options);
}

absl::Status NpcCluster::WaitNpcSynced(int i, absl::Duration within) {
  return WaitFor(
      [&] {
        absl::StatusOr<std::string> metrics = NpcMetrics(i);
        return metrics.ok() && MetricValue(*metrics, "weavenpc_ruleset_syncs_total") >= 1;
      },
      within, absl::StrCat("weave-npc on node ", i, " to apply its first ruleset"));
}

double MetricValue(const std::string& exposition, const std::string& series) {
  const std::string prefix = series + " ";
  for (absl::string_view line : absl::StrSplit(exposition, '\n')) {
    if (!absl::StartsWith(line, prefix)) continue;
    double value = 0;
    if (absl::SimpleAtod(line.substr(prefix.size()), &value)) return value;
  }
  return 0;
}

absl::Status NpcCluster::Api(const std::string& method, const std::string& path,
                             const std::string& body, bool missing_ok) {
  std::vector<std::string> argv = {
      "curl",
      "-sS",
      "--cacert",
      api_dir_ + "/ca.crt",
      "-H",
      absl::StrCat("Authorization: Bearer ", kToken),
      "-H",
      "Content-Type: application/json",
      "-w",
      "\n%{http_code}",
      "-X",
      method,
      absl::StrCat("https://", node(1).address(), ":", kApiPort, path)};
  CommandOptions options;
  if (!body.empty()) {
    argv.push_back("--data-binary");
    argv.push_back("@-");
    options.stdin_data = body;
  }
  absl::StatusOr<CommandResult> result = node(1).Exec(argv, absl::Seconds(20), options);
  if (!result.ok()) return result.status();
  if (absl::Status status = result->ToStatus(); !status.ok()) return status;
  const std::string& out = result->stdout_data;
  const std::string code = out.substr(out.rfind('\n') + 1);
  if (code.starts_with("2") || (missing_ok && code == "404")) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(method, " ", path, ": HTTP ", out));
}

std::string NpcCluster::Table(int i) {
  absl::StatusOr<CommandResult> result =
      node(i).Exec({"nft", "list", "table", "inet", "weave-npc"});
  if (!result.ok()) return absl::StrCat("(", result.status().ToString(), ")\n");
  if (!result->exit.success()) return absl::StrCat("(", result->ToStatus().ToString(), ")\n");
  return result->stdout_data;
}

absl::Status NpcCluster::WaitEnforced(const npc::Model& model, absl::Duration within,
                                      const std::vector<int>& nodes) {
  const npc::Model seen = AsWeaveNpcSeesIt(model);
  std::vector<std::string> expected(kNodes + 1), actual(kNodes + 1);
  for (int i : nodes) {
    expected[i] = SortedBlocks(nft::ToText(npc::Compile(
        seen, {.node = absl::StrCat("node", i), .allow_mcast = options_[i].allow_mcast})));
  }
  absl::Status waited = WaitFor(
      [&] {
        bool all = true;
        for (int i : nodes) {
          actual[i] = SortedBlocks(Table(i));
          all = all && actual[i] == expected[i];
        }
        return all;
      },
      within,
      absl::StrCat("weave-npc on node(s) ", absl::StrJoin(nodes, ", "),
                   " to enforce the model (nft's listing == the compiler's ToText, sets and "
                   "chains in either order)"));
  if (waited.ok()) return waited;
  std::string diff;
  for (int i : nodes) {
    if (actual[i] == expected[i]) continue;
    absl::StrAppend(&diff, "node", i, " (- expected, + listed):\n",
                    MissingLines(expected[i], actual[i], "- "),
                    MissingLines(actual[i], expected[i], "+ "));
  }
  return absl::DeadlineExceededError(absl::StrCat(waited.message(), "\n", diff));
}

KernelDataPath::KernelDataPath(NpcCluster& cluster, std::vector<uint16_t> ports)
    : cluster_(cluster), ports_(std::move(ports)) {}

KernelDataPath::~KernelDataPath() {
  if (absl::Status status = Reset(); !status.ok()) {
    std::cerr << "KernelDataPath: reset: " << status << "\n";
  }
}

std::vector<uint16_t> KernelDataPath::ProbedPorts(const npc::conformance::Case& c) {
  std::set<uint16_t> ports = {80, 81};
  for (const npc::conformance::Step& step : c.steps) {
    for (const npc::conformance::Probe& probe : step.probes) ports.insert(probe.port);
  }
  return {ports.begin(), ports.end()};
}

std::string KernelDataPath::NodeName(const std::string& runner_node) {
  return runner_node == "node-2" ? "node2" : "node1";
}

absl::StatusOr<std::map<std::string, net::Ipv4>> KernelDataPath::CreatePods(
    const std::vector<npc::conformance::CasePod>& pods) {
  reset_ = false;
  const std::string port_list = absl::StrJoin(ports_, ",");
  std::map<std::string, net::Ipv4> addresses;
  for (const npc::conformance::CasePod& case_pod : pods) {
    if (case_pod.node != "node-1" && case_pod.node != "node-2") {
      return absl::InvalidArgumentError(
          absl::StrCat(case_pod.Key(), ": no node ", case_pod.node, " in a two-node cluster"));
    }
    const int node = case_pod.node == "node-2" ? 2 : 1;
    AttachedPod& attached = pods_[case_pod.Key()];
    attached.pod = cluster_.pods().NewPod(node, cluster_.NextPodId());
    // As kubelet names it: weave-npc matches the router's endpoint to the API's pod by name.
    CommandResult added = cluster_.pods().Cni("ADD", attached.pod, case_pod.Key());
    if (!added.exit.success()) {
      return absl::InternalError(
          absl::StrCat("CNI ADD of ", case_pod.Key(), ": ", added.stdout_data, added.stderr_data));
    }
    json result = json::parse(added.stdout_data, nullptr, false);
    if (result.is_discarded() || !result.contains("ips") || result["ips"].empty()) {
      return absl::InternalError(
          absl::StrCat("CNI ADD of ", case_pod.Key(), " gave no address: ", added.stdout_data));
    }
    const std::string cidr = result["ips"][0]["address"];
    attached.pod.address = cidr.substr(0, cidr.find('/'));
    absl::StatusOr<net::Ipv4> address = net::Ipv4::Parse(attached.pod.address);
    if (!address.ok()) return address.status();
    addresses[case_pod.Key()] = *address;

    ProcessOptions options;
    options.netns = NetnsName(attached.pod.netns);
    options.log_path =
        absl::StrCat(cluster_.node(node).dir(), "/probe-server-", attached.pod.id, ".log");
    absl::StatusOr<std::unique_ptr<Process>> server =
        Process::Start({NPC_PROBE_PATH, "serve", "--tcp", port_list, "--udp", port_list}, options);
    if (!server.ok()) return server.status();
    attached.server = std::move(*server);
  }
  for (const auto& [key, attached] : pods_) {
    const std::string log_path = attached.server->log_path();
    absl::Status serving =
        WaitFor([&] { return absl::StrContains(ReadFileOrEmpty(log_path), "\nserving\n"); },
                absl::Seconds(10), absl::StrCat(key, "'s probe server to listen"));
    if (!serving.ok()) return serving;
  }
  return addresses;
}

absl::Status KernelDataPath::Enforce(const npc::Model& model,
                                     const std::map<std::string, json>& policy_objects) {
  if (absl::Status posted = Post(model, policy_objects); !posted.ok()) return posted;
  return cluster_.WaitEnforced(model, kEnforceWithin);
}

absl::Status KernelDataPath::Post(const npc::Model& model,
                                  const std::map<std::string, json>& policy_objects) {
  std::map<std::string, json> desired;
  for (const auto& [name, ns] : model.namespaces) {
    desired[absl::StrCat("/api/v1/namespaces/", name)] = NamespaceObject(ns);
  }
  for (const auto& [key, pod] : model.pods) {
    desired[absl::StrCat("/api/v1/namespaces/", pod.ns, "/pods/", pod.name)] = PodObject(pod);
  }
  for (const auto& [key, policy] : policy_objects) {
    const std::vector<std::string> parts = absl::StrSplit(key, '/');
    desired[absl::StrCat("/apis/networking.k8s.io/v1/namespaces/", parts[0], "/networkpolicies/",
                         parts[1])] = PolicyObject(policy);
  }
  // Only what changed, namespaces first: each object written is an event for both weave-npcs.
  json changed = json::array();
  for (const char* kind : {"Namespace", "Pod", "NetworkPolicy"}) {
    for (const auto& [path, object] : desired) {
      if (object["kind"] != kind) continue;
      auto it = posted_.find(path);
      if (it == posted_.end() || it->second != object) changed.push_back(object);
    }
  }
  if (!changed.empty()) {
    if (absl::Status status = cluster_.Api("POST", "/_fake/objects", changed.dump());
        !status.ok()) {
      return status;
    }
  }
  for (const auto& [path, object] : posted_) {
    if (desired.contains(path)) continue;
    if (absl::Status status = cluster_.Api("DELETE", path, "", true); !status.ok()) return status;
  }
  posted_ = std::move(desired);
  return absl::OkStatus();
}

absl::StatusOr<std::string> NpcProbe(const std::string& netns, npc::Protocol protocol,
                                     uint16_t port, const std::vector<std::string>& to) {
  std::vector<std::string> argv = {NPC_PROBE_PATH, "connect",
                                   "--proto",      protocol == npc::Protocol::kUdp ? "udp" : "tcp",
                                   "--port",       std::to_string(port),
                                   "--timeout-ms", std::to_string(kProbeTimeoutMs)};
  argv.insert(argv.end(), to.begin(), to.end());
  CommandOptions options;
  options.netns = netns;
  absl::StatusOr<CommandResult> result = RunCommand(argv, absl::Seconds(20), options);
  if (!result.ok()) return result.status();
  if (absl::Status status = result->ToStatus(); !status.ok()) return status;
  std::string line = result->stdout_data;
  if (!line.empty() && line.back() == '\n') line.pop_back();
  if (line.size() != to.size()) {
    return absl::InternalError(absl::StrCat("npc-probe in ", netns, " printed \"", line, "\" for ",
                                            to.size(), " addresses"));
  }
  return line;
}

absl::StatusOr<std::string> KernelDataPath::Probe(const AttachedPod& from,
                                                  const std::vector<std::string>& to,
                                                  npc::Protocol protocol, uint16_t port) const {
  return NpcProbe(NetnsName(from.pod.netns), protocol, port, to);
}

absl::StatusOr<std::vector<std::vector<bool>>> KernelDataPath::ConnectMatrix(
    const std::vector<const npc::Pod*>& pods, npc::Protocol protocol, uint16_t port) {
  const size_t n = pods.size();
  std::vector<const AttachedPod*> attached(n);
  for (size_t i = 0; i < n; ++i) {
    auto it = pods_.find(pods[i]->Key());
    if (it == pods_.end()) {
      return absl::FailedPreconditionError(absl::StrCat("no pod ", pods[i]->Key()));
    }
    attached[i] = &it->second;
  }
  // One probe process per source, all at once; each tries its destinations at once.
  std::vector<absl::StatusOr<std::string>> lines(n, std::string());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      std::vector<std::string> to;
      for (size_t j = 0; j < n; ++j) {
        if (j != i) to.push_back(attached[j]->pod.address);
      }
      lines[i] = Probe(*attached[i], to, protocol, port);
    });
  }
  for (std::thread& thread : threads) thread.join();

  std::vector<std::vector<bool>> out(n, std::vector<bool>(n, true));
  for (size_t i = 0; i < n; ++i) {
    if (!lines[i].ok()) return lines[i].status();
    size_t k = 0;
    for (size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      const char answer = (*lines[i])[k++];
      out[i][j] = answer == '.';
      if (answer != '.' && answer != 'X') {
        absl::StrAppend(&anomalies_, "  ", pods[i]->Key(), " -> ", pods[j]->Key(), " ",
                        ProtocolName(protocol), "/", port, ": ",
                        answer == 'R' ? "refused" : "error", "\n");
      }
    }
  }
  return out;
}

absl::StatusOr<bool> KernelDataPath::Connects(const npc::Pod& from, const npc::Pod& to,
                                              npc::Protocol protocol, uint16_t port) {
  auto source = pods_.find(from.Key());
  auto destination = pods_.find(to.Key());
  if (source == pods_.end() || destination == pods_.end()) {
    return absl::FailedPreconditionError(absl::StrCat("no pod ", from.Key(), " or ", to.Key()));
  }
  absl::StatusOr<std::string> line =
      Probe(source->second, {destination->second.pod.address}, protocol, port);
  if (!line.ok()) return line.status();
  return *line == ".";
}

bool KernelDataPath::Supports(npc::Protocol protocol) const {
  return protocol == npc::Protocol::kTcp || protocol == npc::Protocol::kUdp;
}

std::string KernelDataPath::Describe() const {
  std::string out;
  if (!anomalies_.empty())
    absl::StrAppend(&out, "  probe answers other than a timeout:\n", anomalies_);
  for (int i = 1; i <= NpcCluster::kNodes; ++i) {
    absl::StrAppend(&out, "  node", i, ": nft list table inet weave-npc:\n", cluster_.Table(i));
  }
  return out;
}

const Pod* KernelDataPath::Attached(const std::string& key) const {
  auto it = pods_.find(key);
  return it == pods_.end() ? nullptr : &it->second.pod;
}

absl::StatusOr<std::unique_ptr<Process>> KernelDataPath::StartInPod(
    const std::string& key, const std::string& label, const std::vector<std::string>& argv) const {
  const Pod* pod = Attached(key);
  if (pod == nullptr) return absl::FailedPreconditionError(absl::StrCat("no pod ", key));
  ProcessOptions options;
  options.netns = NetnsName(pod->netns);
  options.log_path = absl::StrCat(cluster_.node(pod->node).dir(), "/", label, "-", pod->id, ".log");
  return Process::Start(argv, options);
}

absl::Status KernelDataPath::Reset() {
  if (reset_) return absl::OkStatus();
  reset_ = true;
  absl::Status first;
  const auto keep = [&first](absl::Status status) {
    if (first.ok()) first = std::move(status);
  };
  // Policies, then pods, then namespaces: the order a namespace's deletion would take.
  for (const char* kind : {"NetworkPolicy", "Pod", "Namespace"}) {
    for (const auto& [path, object] : posted_) {
      if (object["kind"] == kind) keep(cluster_.Api("DELETE", path, "", true));
    }
  }
  posted_.clear();
  for (auto& [key, attached] : pods_) {
    if (attached.server != nullptr) keep(attached.server->Stop(absl::Seconds(5)).status());
    CommandResult deleted = cluster_.pods().Cni("DEL", attached.pod, key);
    if (!deleted.exit.success()) {
      keep(absl::InternalError(
          absl::StrCat("CNI DEL of ", key, ": ", deleted.stdout_data, deleted.stderr_data)));
    }
  }
  pods_.clear();
  anomalies_.clear();
  keep(cluster_.WaitEnforced(npc::Model{}, kEnforceWithin));
  return first;
}

}  // namespace weave::testing
