// npc_kernel_bench: weave-npc against the kernel, on the two-node cluster of the kernel tests
// (NpcCluster: real weaver, weave-npc and fake API server in network namespaces). Needs root.
//
//   sudo build/test/npc_kernel_bench
//
// Environment (defaults): NPC_BENCH_EVENTS (100) pod events per latency run, NPC_BENCH_PODS
// (1000), NPC_BENCH_NAMESPACES (100), NPC_BENCH_POLICIES (200) for the full sync,
// NPC_BENCH_NODES (1: every pod on node 1, the largest table; 2: spread over both).
//
// Prints:
//  (a) pod event -> rules in the kernel: a pod labelled into a policy's selector gets its address
//      (the kubelet's status update, PATCHed by an in-process client from node 1's namespace; the
//      pod was created just before, without one) and the clock stops when `nft monitor` in node
//      1's namespace prints the element added to that policy's selector set.
//      Median, p99 and max, on a quiet cluster and again with the full sync's objects loaded;
//  (b) first full sync: weave-npc on node 1 started (its table deleted) against an API server
//      already holding the pods, namespaces and policies; prints when `nft monitor` printed the
//      first and the last change, and when `nft list` (polled) first showed the complete table;
//  (c) weave-npc's VmRSS and VmHWM (/proc) after (b), and after the loaded run of (a).
//
// Synthetic objects in the spirit of npc_compile_bench: pods with app and tier labels and two
// named ports, namespaces labelled by team, policies with podSelector and namespaceSelector peers
// (some both), ipBlocks with except, numeric and named ports and an endPort range, half with
// egress rules.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/kube/client.h"
#include "common/kube/config.h"
#include "common/net/ip.h"
#include "nlohmann/json.hpp"
#include "npc/compiler/compiler.h"
#include "npc/model/parse.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"
#include "test/npc_datapath.h"

namespace weave::testing {
namespace {

using nlohmann::json;

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  int out = 0;
  return value != nullptr && absl::SimpleAtoi(value, &out) && out > 0 ? out : fallback;
}

// ---------------------------------------------------------------------------------------------
// The synthetic cluster

struct Objects {
  npc::Model model;                      // pods' nodes as the runner names them ("node-1")
  std::map<std::string, json> policies;  // by "ns/name"
};

json Selector(const std::string& key, const std::string& value) {
  return {{"matchLabels", {{key, value}}}};
}

json SyntheticPolicy(int i, int namespaces) {
  const std::string ns = absl::StrCat("ns-", i % namespaces);
  json web = {{"podSelector", Selector("tier", "web")}};
  json team = {{"namespaceSelector", Selector("team", absl::StrCat("team-", i % 5))}};
  json both = {{"namespaceSelector", Selector("team", absl::StrCat("team-", (i + 1) % 5))},
               {"podSelector", Selector("tier", "db")}};
  json block = {
      {"ipBlock",
       {{"cidr", "192.168.0.0/16"}, {"except", {absl::StrCat("192.168.", i % 256, ".0/24")}}}}};
  json spec = {{"podSelector", Selector("app", absl::StrCat("app-", i % 7))},
               {"policyTypes", i % 2 == 0 ? json{"Ingress", "Egress"} : json{"Ingress"}},
               {"ingress",
                {{{"from", {web, team}}, {"ports", {{{"port", 80}}, {{"port", "http"}}}}},
                 {{"from", {both, block}},
                  {"ports", {{{"protocol", "UDP"}, {"port", 5000}, {"endPort", 5100}}}}}}}};
  if (i % 2 == 0) {
    spec["egress"] = {{{"to", {team}}, {"ports", {{{"port", "metrics"}}}}}, {{"to", {block}}}};
  }
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", {{"namespace", ns}, {"name", absl::StrCat("policy-", i)}}},
          {"spec", spec}};
}

npc::Pod SyntheticPod(int i, int namespaces, int nodes) {
  npc::Pod pod;
  pod.ns = absl::StrCat("ns-", i % namespaces);
  pod.name = absl::StrCat("pod-", i);
  pod.labels = {{"app", absl::StrCat("app-", i % 7)}, {"tier", i % 3 == 0 ? "db" : "web"}};
  pod.node = absl::StrCat("node-", i % nodes + 1);
  pod.ip = net::Ipv4((10u << 24) | (44u << 16) | static_cast<uint32_t>(i + 1));
  pod.ports = {{"http", 8080, npc::Protocol::kTcp}, {"metrics", 9100, npc::Protocol::kTcp}};
  return pod;
}

void AddPolicy(Objects& objects, const json& policy) {
  ASSIGN_OR_REQUIRE(npc::Policy parsed, npc::ParsePolicy(policy));
  REQUIRE(parsed.problem.empty());
  objects.policies[parsed.Key()] = policy;
  objects.model.policies[parsed.Key()] = std::move(parsed);
}

void AddNamespace(Objects& objects, const std::string& name, npc::Labels labels) {
  labels["kubernetes.io/metadata.name"] = name;
  objects.model.namespaces[name] = {name, std::move(labels), false};
}

void AddSyntheticCluster(Objects& objects, int pods, int namespaces, int policies, int nodes) {
  for (int i = 0; i < namespaces; ++i) {
    AddNamespace(objects, absl::StrCat("ns-", i), {{"team", absl::StrCat("team-", i % 5)}});
  }
  for (int i = 0; i < pods; ++i) {
    npc::Pod pod = SyntheticPod(i, namespaces, nodes);
    objects.model.pods[pod.Key()] = std::move(pod);
  }
  for (int i = 0; i < policies; ++i) AddPolicy(objects, SyntheticPolicy(i, namespaces));
}

// ---------------------------------------------------------------------------------------------
// Watching the kernel

// `nft monitor` in a node's namespace, its lines timestamped as they appear in its log (a
// thread polls the file every millisecond; nft flushes each event).
class NftMonitor {
 public:
  NftMonitor(NetnsNode& node, const std::string& label) {
    ASSIGN_OR_REQUIRE(process_, node.Start(label, {"nft", "monitor"}));
    path_ = process_->log_path();
    reader_ = std::thread([this] { Read(); });
  }
  ~NftMonitor() {
    stopping_.Notify();
    reader_.join();
    (void)process_->Stop(absl::Seconds(2));
  }

  // The time the first line since line `from` containing every one of `parts` appeared, or
  // InfiniteFuture if none did before `deadline`. *next: the index after that line.
  absl::Time WaitLine(const std::vector<std::string>& parts, size_t from, absl::Time deadline,
                      size_t* next = nullptr) {
    absl::MutexLock lock(&mu_);
    size_t i = from;
    const auto found = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (; i < lines_.size(); ++i) {
        if (std::all_of(parts.begin(), parts.end(), [&](const std::string& part) {
              return absl::StrContains(lines_[i].second, part);
            })) {
          return true;
        }
      }
      return false;
    };
    mu_.AwaitWithDeadline(absl::Condition(&found), deadline);
    if (i >= lines_.size()) return absl::InfiniteFuture();
    if (next != nullptr) *next = i + 1;
    return lines_[i].first;
  }

  size_t lines() {
    absl::MutexLock lock(&mu_);
    return lines_.size();
  }
  // When the first line appeared (InfinitePast: none yet).
  absl::Time first() {
    absl::MutexLock lock(&mu_);
    return lines_.empty() ? absl::InfinitePast() : lines_.front().first;
  }
  // When the last line appeared (InfinitePast: none yet).
  absl::Time last() {
    absl::MutexLock lock(&mu_);
    return lines_.empty() ? absl::InfinitePast() : lines_.back().first;
  }

 private:
  void Read() {
    std::ifstream in;
    std::string partial;
    bool header = true;  // the log's first line names the command
    while (!stopping_.WaitForNotificationWithTimeout(absl::Milliseconds(1))) {
      if (!in.is_open()) {
        in.open(path_);
        if (!in.is_open()) continue;
      }
      char buffer[65536];
      in.clear();
      in.read(buffer, sizeof(buffer));
      const std::streamsize n = in.gcount();
      if (n <= 0) continue;
      const absl::Time now = absl::Now();
      partial.append(buffer, n);
      size_t end;
      absl::MutexLock lock(&mu_);
      while ((end = partial.find('\n')) != std::string::npos) {
        if (!header) lines_.emplace_back(now, partial.substr(0, end));
        header = false;
        partial.erase(0, end + 1);
      }
    }
  }

  Process* process_ = nullptr;
  std::string path_;
  absl::Notification stopping_;
  absl::Mutex mu_;
  std::vector<std::pair<absl::Time, std::string>> lines_ ABSL_GUARDED_BY(mu_);
  std::thread reader_;
};

// ---------------------------------------------------------------------------------------------
// Reporting

struct Percentiles {
  double median = 0, p99 = 0, max = 0;
};

Percentiles Summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  const size_t n = ms.size();
  const size_t p99 = std::min(n - 1, static_cast<size_t>(std::ceil(0.99 * n)) - 1);
  return {ms[n / 2], ms[p99], ms.back()};
}

// "VmRSS 12345 kB, VmHWM 23456 kB" of a process.
std::string Memory(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line, out;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:") || line.starts_with("VmHWM:")) {
      std::vector<std::string> fields =
          absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      absl::StrAppend(&out, out.empty() ? "" : ", ", fields[0], " ", fields[1], " kB");
    }
  }
  return out;
}

// The CPU time (user + system) the process has used so far, from /proc/PID/stat.
absl::Duration CpuTime(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start after its ')'.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return absl::ZeroDuration();
  std::vector<std::string> fields =
      absl::StrSplit(text.substr(close + 2), ' ', absl::SkipEmpty());
  // utime and stime are fields 14 and 15 of the line: 12 and 13 after the name.
  int64_t utime = 0, stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return absl::ZeroDuration();
  }
  return absl::Seconds(static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK));
}

std::string ProcessName(pid_t pid) {
  std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
  std::string name;
  std::getline(comm, name);
  return name;
}

// ---------------------------------------------------------------------------------------------
// (a) Pod events

// Runs `body` on a thread of its own inside `node`'s network namespace (sockets it opens and
// commands it runs are the node's) and returns what it returns.
absl::Status InNodeNamespace(const NetnsNode& node, const std::function<absl::Status()>& body) {
  absl::Status status;
  std::thread thread([&] {
    const int netns = open(absl::StrCat("/run/netns/", node.name()).c_str(), O_RDONLY | O_CLOEXEC);
    if (netns < 0 || setns(netns, CLONE_NEWNET) != 0) {
      status = absl::InternalError(absl::StrCat("entering ", node.name(), ": ", strerror(errno)));
    } else {
      status = body();
    }
    if (netns >= 0) close(netns);
  });
  thread.join();
  return status;
}

// How late `monitor` prints a change: `nft add element` into a table of the bench's own, `runs`
// times; returns the median of (line printed - command returned), and *command the median time
// the command took (the change is committed somewhere within it).
double MonitorLagMs(const NetnsNode& node, NftMonitor& monitor, int runs, double* command) {
  std::vector<double> lags, commands;
  REQUIRE_OK(InNodeNamespace(node, [&]() -> absl::Status {
    if (absl::Status made = RunChecked({"nft",
                                        "add table inet npc-bench-calibration; add set inet "
                                        "npc-bench-calibration s { type ipv4_addr; }"},
                                       absl::Seconds(10));
        !made.ok()) {
      return made;
    }
    size_t from = monitor.lines();
    for (int i = 0; i < runs; ++i) {
      const std::string ip = absl::StrCat("10.99.0.", i + 1);
      const absl::Time start = absl::Now();
      if (absl::Status added = RunChecked({"nft", "add", "element", "inet", "npc-bench-calibration",
                                           "s", absl::StrCat("{ ", ip, " }")},
                                          absl::Seconds(10));
          !added.ok()) {
        return added;
      }
      const absl::Time returned = absl::Now();
      const absl::Time seen =
          monitor.WaitLine({"npc-bench-calibration", absl::StrCat(" ", ip, " ")}, from,
                           returned + absl::Seconds(10), &from);
      if (seen == absl::InfiniteFuture()) return absl::DeadlineExceededError("calibration");
      lags.push_back(absl::ToDoubleMilliseconds(seen - returned));
      commands.push_back(absl::ToDoubleMilliseconds(returned - start));
    }
    return RunChecked({"nft", "delete", "table", "inet", "npc-bench-calibration"},
                      absl::Seconds(10));
  }));
  *command = Summarize(commands).median;
  return Summarize(lags).median;
}

// How a latency run sees the pod's address arrive in policy bench/latency's selector set:
// `nft monitor`'s line (timestamped as printed), or `nft list set` run in a loop (the end of the
// first listing that holds it: an upper bound, late by up to one listing).
enum class Observer { kMonitor, kListSet };

// Polls `nft list set` (from the calling thread's namespace) until the set holds `ip`; the time
// the listing that first held it returned, or InfiniteFuture after `deadline`.
absl::Time ListedAt(const std::string& set, const std::string& ip, absl::Time deadline) {
  while (absl::Now() < deadline) {
    absl::StatusOr<CommandResult> listed =
        RunCommand({"nft", "list", "set", "inet", "weave-npc", set}, absl::Seconds(10));
    const absl::Time now = absl::Now();
    if (listed.ok() && (absl::StrContains(listed->stdout_data, absl::StrCat(" ", ip, " ")) ||
                        absl::StrContains(listed->stdout_data, absl::StrCat(" ", ip, ",")) ||
                        absl::StrContains(listed->stdout_data, absl::StrCat(" ", ip, "\n")))) {
      return now;
    }
  }
  return absl::InfiniteFuture();
}

// Creates `events` pods labelled app=latency in namespace "bench" (selected by policy
// bench/latency) on node 1, one at a time, each once the previous one is in the kernel (and
// `gap` more); returns the latencies in ms. Runs the API calls (and nft list) on a thread inside
// node 1's namespace (the API server listens on node 1's address).
struct Latencies {
  std::vector<double> total;  // status PATCH sent -> element seen, ms
  std::vector<double> api;    // of which the PATCH's round trip
};

Latencies PodEventLatencies(NpcCluster& cluster, NftMonitor& monitor, Observer observer, int events,
                            int first_index, absl::Duration gap) {
  Latencies latencies;
  absl::Status failed = InNodeNamespace(cluster.node(1), [&]() -> absl::Status {
    absl::StatusOr<kube::Config> config = kube::LoadConfig(cluster.kubeconfig());
    if (!config.ok()) return config.status();
    absl::StatusOr<std::unique_ptr<kube::Client>> api = kube::NewClient(*config);
    if (!api.ok()) return api.status();
    size_t from = monitor.lines();
    for (int k = first_index; k < first_index + events; ++k) {
      const std::string ip = absl::StrCat("10.45.", k / 250, ".", k % 250 + 1);
      // Created first, as the scheduler's binding would leave it: no address yet. The event is
      // the kubelet's status update that gives it one (the API server drops a created pod's
      // status).
      const std::string name = absl::StrCat("latency-", k);
      const json pod = {
          {"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"namespace", "bench"}, {"name", name}, {"labels", {{"app", "latency"}}}}},
          {"spec", {{"nodeName", "node1"}, {"containers", {{{"name", "c"}, {"image", "x"}}}}}}};
      if (absl::StatusOr<json> created = (*api)->Create("/api/v1/namespaces/bench/pods", pod);
          !created.ok()) {
        return created.status();
      }
      const absl::Time start = absl::Now();
      if (absl::StatusOr<json> patched =
              (*api)->Patch(absl::StrCat("/api/v1/namespaces/bench/pods/", name, "/status"),
                            {{"status", {{"phase", "Running"}, {"podIP", ip}}}});
          !patched.ok()) {
        return patched.status();
      }
      latencies.api.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
      const absl::Time deadline = start + absl::Seconds(10);
      const absl::Time seen =
          observer == Observer::kMonitor
              ? monitor.WaitLine({"in.bench.latency.sel", absl::StrCat(" ", ip, " ")}, from,
                                 deadline, &from)
              : ListedAt("in.bench.latency.sel", ip, deadline);
      if (seen == absl::InfiniteFuture()) {
        return absl::DeadlineExceededError(absl::StrCat("pod ", ip, " not in the kernel in 10 s"));
      }
      latencies.total.push_back(absl::ToDoubleMilliseconds(seen - start));
      absl::SleepFor(gap);
    }
    return absl::OkStatus();
  });
  INFO("nft monitor printed " << monitor.lines() << " lines; node 1's table:\n"
                              << cluster.Table(1));
  REQUIRE_OK(failed);
  return latencies;
}

void PrintMonitorLag(const NetnsNode& node, NftMonitor& monitor, const char* when) {
  double command = 0;
  const double lag = MonitorLagMs(node, monitor, 20, &command);
  std::printf(
      "    nft monitor's lag, %s: printed %.1f ms after `nft add element` returned "
      "(median; that command took %.1f ms)\n",
      when, lag, command);
  std::fflush(stdout);
}

void PrintLatencies(const char* what, const Latencies& latencies) {
  const Percentiles p = Summarize(latencies.total);
  std::printf(
      "(a) pod event -> element in the kernel, %s: %zu events, median %.1f ms, p99 %.1f ms, "
      "max %.1f ms (the status PATCH's round trip: median %.1f ms)\n",
      what, latencies.total.size(), p.median, p.p99, p.max, Summarize(latencies.api).median);
  std::fflush(stdout);
}

TEST_CASE("weave-npc against the kernel: pod event latency, first full sync, memory",
          "[netns][bench]") {
  const int events = EnvInt("NPC_BENCH_EVENTS", 100);
  const int pods = EnvInt("NPC_BENCH_PODS", 1000);
  const int namespaces = EnvInt("NPC_BENCH_NAMESPACES", 100);
  const int policies = EnvInt("NPC_BENCH_POLICIES", 200);
  const int nodes = std::min(EnvInt("NPC_BENCH_NODES", 1), NpcCluster::kNodes);

  NpcCluster cluster;
  KernelDataPath api(cluster, {});
  Objects objects;
  AddNamespace(objects, "bench", {});
  AddPolicy(objects,
            {{"apiVersion", "networking.k8s.io/v1"},
             {"kind", "NetworkPolicy"},
             {"metadata", {{"namespace", "bench"}, {"name", "latency"}}},
             {"spec",
              {{"podSelector", Selector("app", "latency")},
               {"ingress", {{{"from", {{{"podSelector", Selector("app", "client")}}}}}}}}}});
  REQUIRE_OK(api.Enforce(objects.model, objects.policies));

  // (a) on a quiet cluster.
  {
    NftMonitor monitor(cluster.node(1), "nft-monitor-quiet");
    PrintLatencies(
        "quiet cluster (1 policy), nft monitor",
        PodEventLatencies(cluster, monitor, Observer::kMonitor, events, 0, absl::ZeroDuration()));
    PrintMonitorLag(cluster.node(1), monitor, "quiet cluster");
    PrintLatencies("quiet cluster (1 policy), nft list set",
                   PodEventLatencies(cluster, monitor, Observer::kListSet, events, events,
                                     absl::ZeroDuration()));
  }

  // (b) first full sync: the objects are in the API before weave-npc starts. Both weave-npcs
  // stop meanwhile (node 2's would compete for the CPU); node 1's table goes.
  AddSyntheticCluster(objects, pods, namespaces, policies, nodes);
  REQUIRE_OK(cluster.StopNpc(1, SIGTERM));
  REQUIRE_OK(cluster.StopNpc(2, SIGTERM));
  REQUIRE_OK(api.Post(objects.model, objects.policies));
  REQUIRE_OK(cluster.node(1).Exec({"nft", "delete", "table", "inet", "weave-npc"})->ToStatus());
  NftMonitor monitor(cluster.node(1), "nft-monitor-loaded");
  const absl::Time start = absl::Now();
  REQUIRE_OK(cluster.StartNpc(1, {}));
  // Pods added by (a) are in the API too; the model here has only what was posted through it.
  npc::Model expected = objects.model;
  for (int k = 0; k < 2 * events; ++k) {
    npc::Pod pod;
    pod.ns = "bench";
    pod.name = absl::StrCat("latency-", k);
    pod.labels = {{"app", "latency"}};
    pod.node = "node-1";
    pod.ip = net::Ipv4::Parse(absl::StrCat("10.45.", k / 250, ".", k % 250 + 1)).value();
    expected.pods[pod.Key()] = pod;
  }
  REQUIRE_OK(cluster.WaitEnforced(expected, absl::Minutes(2), {1}));
  const absl::Time listed = absl::Now();
  // Done once nft monitor has been quiet for a second: the last change it printed completed it.
  REQUIRE_OK(WaitFor([&] { return absl::Now() - monitor.last() > absl::Seconds(1); },
                     absl::Seconds(30), "the table to stop changing"));
  const nft::Table table = npc::Compile(expected, {.node = "node-1"});
  size_t rules = 0, elements = 0;
  for (const nft::Chain& chain : table.chains) rules += chain.rules.size();
  for (const nft::Set& set : table.sets) elements += set.elements.size();
  const pid_t npc_pid = cluster.npc(1)->pid();
  REQUIRE(ProcessName(npc_pid) == "weave-npc");
  const auto ms_since_start = [&](absl::Time t) { return absl::ToDoubleMilliseconds(t - start); };
  std::printf(
      "(b) first full sync, %d pods (+%d) on %d node(s), %d namespaces, %d policies; node "
      "1's table: %zu chains, %zu rules, %zu sets, %zu elements. From weave-npc's start: "
      "first change in the kernel %.0f ms, last %.0f ms (nft monitor's %zu lines, "
      "timestamped as it prints them), table complete by nft list at %.0f ms\n",
      pods, 2 * events, nodes, namespaces, policies, table.chains.size(), rules, table.sets.size(),
      elements, ms_since_start(monitor.first()), ms_since_start(monitor.last()), monitor.lines(),
      ms_since_start(listed));
  std::printf("(c) weave-npc after the full sync: %s\n", Memory(npc_pid).c_str());
  // weave-npc's own account of its first sync (where the time went): its last such line.
  std::string account = "(not logged)";
  for (absl::string_view line : absl::StrSplit(cluster.NpcLog(1), '\n')) {
    if (absl::StrContains(line, "applied table inet weave-npc")) account = std::string(line);
  }
  std::printf("    weave-npc's log: %s\n", account.c_str());
  // The kernel's share: nft itself loading the same table (its listing) into an empty namespace.
  {
    ASSIGN_OR_REQUIRE(std::string scratch, cluster.pods().netns().AddPodNamespace("nft-reference"));
    CommandOptions in_scratch;
    in_scratch.netns = scratch.substr(scratch.rfind('/') + 1);
    in_scratch.stdin_data = cluster.Table(1);
    const absl::Time loading = absl::Now();
    REQUIRE_OK(RunChecked({"nft", "-f", "-"}, absl::Minutes(1), in_scratch));
    std::printf(
        "    for reference, `nft -f` of that table's listing into an empty namespace: %.0f ms\n",
        absl::ToDoubleMilliseconds(absl::Now() - loading));
  }
  std::fflush(stdout);

  // (a) again, with everything loaded (node 2's weave-npc back, as in a cluster).
  REQUIRE_OK(cluster.StartNpc(2, {}));
  REQUIRE_OK(cluster.WaitEnforced(expected, absl::Minutes(2)));
  // Back to back (each event once the previous one is in the kernel: what weave-npc does after
  // applying, such as sweeping conntrack, delays the next), then 500 ms apart (each on its own),
  // then seen by nft list set.
  const absl::Duration cpu_before = CpuTime(npc_pid);
  const absl::Time wall_before = absl::Now();
  PrintLatencies("loaded cluster, nft monitor, back to back",
                 PodEventLatencies(cluster, monitor, Observer::kMonitor, events, 2 * events,
                                   absl::ZeroDuration()));
  std::printf("    weave-npc's CPU during those events: %.0f%% of a core (%.2f s in %.2f s)\n",
              100 * absl::FDivDuration(CpuTime(npc_pid) - cpu_before, absl::Now() - wall_before),
              absl::ToDoubleSeconds(CpuTime(npc_pid) - cpu_before),
              absl::ToDoubleSeconds(absl::Now() - wall_before));
  PrintLatencies("loaded cluster, nft monitor, 500 ms apart",
                 PodEventLatencies(cluster, monitor, Observer::kMonitor, events, 3 * events,
                                   absl::Milliseconds(500)));
  PrintMonitorLag(cluster.node(1), monitor, "loaded cluster");
  PrintLatencies("loaded cluster, nft list set, back to back",
                 PodEventLatencies(cluster, monitor, Observer::kListSet, events, 4 * events,
                                   absl::ZeroDuration()));
  std::printf("(c) weave-npc after the loaded pod events: %s\n", Memory(npc_pid).c_str());
}

}  // namespace
}  // namespace weave::testing
