// npc_compile_bench: how long weave-npc takes to compile and plan its table.
//
//   build/test/npc_compile_bench [pods] [namespaces] [policies] [nodes]   (default 1000 100 200 1)
//
// A synthetic cluster: pods spread evenly over namespaces and nodes, each with an app label, a
// tier label and two named ports; namespaces labelled by team. Policies (spread over the
// namespaces) mix what real clusters use: podSelector and namespaceSelector peers (some both),
// ipBlocks with except, numeric ports, endPort ranges and named ports, ingress and egress.
// Prints the median and maximum of several runs for: a full compile, a plan from nothing, a
// plan against an equal table, and a single pod event (one pod added: compile + plan, the
// transaction it gives, and the same on the controller with a fake backend, which also applies).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/nft/fake_backend.h"
#include "common/nft/plan.h"
#include "nlohmann/json.hpp"
#include "npc/compiler/compiler.h"
#include "npc/controller.h"

namespace {

using namespace weave::npc;
namespace nft = weave::nft;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Stats {
  double median = 0;
  double max = 0;
};

template <typename F>
Stats Measure(int runs, F&& f) {
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    f(i);
    times.push_back(Ms(Clock::now() - start));
  }
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], times.back()};
}

LabelSelector Is(const std::string& key, const std::string& value) {
  return {{{key, Requirement::Operator::kIn, {value}}}};
}

weave::net::Ipv4 PodIp(int i) { return weave::net::Ipv4((10u << 24) | (32u << 16) | (i + 2)); }

Pod MakePod(int i, int namespaces, int nodes) {
  Pod pod;
  pod.ns = absl::StrCat("ns-", i % namespaces);
  pod.name = absl::StrCat("pod-", i);
  pod.labels = {{"app", absl::StrCat("app-", i % 7)}, {"tier", i % 3 == 0 ? "db" : "web"}};
  pod.node = absl::StrCat("node-", i % nodes);
  pod.ip = PodIp(i);
  pod.ports = {{"http", 8080, Protocol::kTcp}, {"metrics", 9100, Protocol::kTcp}};
  return pod;
}

Policy MakePolicy(int i, int namespaces) {
  Policy policy;
  policy.ns = absl::StrCat("ns-", i % namespaces);
  policy.name = absl::StrCat("policy-", i);
  policy.pod_selector = Is("app", absl::StrCat("app-", i % 7));
  policy.ingress = true;
  policy.egress = i % 2 == 0;
  PolicyPeer same_tier;
  same_tier.pod_selector = Is("tier", "web");
  PolicyPeer team;
  team.namespace_selector = Is("team", absl::StrCat("team-", i % 5));
  PolicyPeer both;
  both.namespace_selector = Is("team", absl::StrCat("team-", (i + 1) % 5));
  both.pod_selector = Is("tier", "db");
  PolicyPeer block;
  block.ip_block = IpBlock{*weave::net::Cidr::Parse("192.168.0.0/16"),
                           {*weave::net::Cidr::Parse(absl::StrCat("192.168.", i % 256, ".0/24"))}};
  policy.ingress_rules.push_back(
      {{same_tier, team}, {{Protocol::kTcp, uint16_t{80}, {}}, {Protocol::kTcp, "http", {}}}});
  policy.ingress_rules.push_back({{both, block}, {{Protocol::kUdp, uint16_t{5000}, uint16_t{5100}}}});
  if (policy.egress) {
    policy.egress_rules.push_back({{team}, {{Protocol::kTcp, "metrics", {}}}});
    policy.egress_rules.push_back({{block}, {}});
  }
  return policy;
}

Json PodObject(const Pod& pod) {
  return {{"metadata", {{"namespace", pod.ns}, {"name", pod.name}, {"labels", pod.labels}}},
          {"spec",
           {{"nodeName", pod.node},
            {"containers",
             {{{"name", "c"},
               {"ports",
                {{{"name", "http"}, {"containerPort", 8080}},
                 {{"name", "metrics"}, {"containerPort", 9100}}}}}}}}},
          {"status", {{"phase", "Running"}, {"podIP", pod.ip->ToString()}}}};
}

}  // namespace

int main(int argc, char** argv) {
  const int pods = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int namespaces = argc > 2 ? std::atoi(argv[2]) : 100;
  const int policies = argc > 3 ? std::atoi(argv[3]) : 200;
  const int nodes = argc > 4 ? std::atoi(argv[4]) : 1;
  if (pods < 1 || namespaces < 1 || policies < 0 || nodes < 1) {
    std::fprintf(stderr, "usage: npc_compile_bench [pods] [namespaces] [policies] [nodes]\n");
    return 2;
  }
  Model model;
  for (int i = 0; i < namespaces; ++i) {
    const std::string name = absl::StrCat("ns-", i);
    model.namespaces[name] = {name,
                              {{"kubernetes.io/metadata.name", name},
                               {"team", absl::StrCat("team-", i % 5)}}};
  }
  for (int i = 0; i < pods; ++i) {
    Pod pod = MakePod(i, namespaces, nodes);
    model.pods[pod.Key()] = pod;
  }
  for (int i = 0; i < policies; ++i) {
    Policy policy = MakePolicy(i, namespaces);
    model.policies[policy.Key()] = policy;
  }
  const CompileOptions options{.node = "node-0"};

  nft::Table table;
  const Stats compile = Measure(11, [&](int) { table = Compile(model, options); });
  size_t rules = 0, elements = 0;
  for (const auto& chain : table.chains) rules += chain.rules.size();
  for (const auto& set : table.sets) elements += set.elements.size();
  std::printf("cluster: %d pods, %d namespaces, %d policies, %d node(s); this node's table: "
              "%zu chains, %zu rules, %zu sets, %zu elements\n",
              pods, namespaces, policies, nodes, table.chains.size(), rules, table.sets.size(),
              elements);
  std::printf("full compile:             median %8.2f ms  max %8.2f ms  (goal < 1000 ms)\n",
              compile.median, compile.max);
  const Stats plan_new =
      Measure(11, [&](int) { (void)nft::Plan(std::nullopt, table); });
  std::printf("plan from nothing:        median %8.2f ms  max %8.2f ms\n", plan_new.median,
              plan_new.max);
  const std::optional<nft::Table> current = table;  // Plan's argument type: no copy per call
  const Stats plan_same = Measure(11, [&](int) { (void)nft::Plan(current, table); });
  std::printf("plan, nothing changed:    median %8.2f ms  max %8.2f ms\n", plan_same.median,
              plan_same.max);

  // A pod event as the controller handles it: the model (copied out of the watches' lock), the
  // incremental compiler primed with the previous model, a plan against the applied table.
  Compiler compiler(options);
  std::optional<nft::Table> applied = compiler.Compile(model);
  size_t operations = 0;
  double copy_ms = 0, compile_ms = 0, plan_ms = 0;
  const Stats event = Measure(21, [&](int run) {
    const auto start = Clock::now();
    Pod pod = MakePod(pods + run, namespaces, nodes);
    pod.node = "node-0";
    model.pods[pod.Key()] = pod;
    Model copy = model;
    const auto copied = Clock::now();
    nft::Table desired = compiler.Compile(std::move(copy));
    const auto compiled = Clock::now();
    operations = nft::Plan(applied, desired).operations.size();
    const auto planned = Clock::now();
    applied = std::move(desired);
    copy_ms += Ms(copied - start);
    compile_ms += Ms(compiled - copied);
    plan_ms += Ms(planned - compiled);
  });
  std::printf("pod event (copy+compile+plan): median %6.2f ms  max %8.2f ms  (goal < 10 ms; "
              "mean copy %.2f, compile %.2f, plan %.2f ms; %zu operations)\n",
              event.median, event.max, copy_ms / 21, compile_ms / 21, plan_ms / 21, operations);

  // The controller's path: parse the object, compile, plan, apply to the fake backend.
  nft::FakeBackend backend;
  Controller controller(&backend, options);
  for (const auto& [key, ns] : model.namespaces) {
    controller.Upsert(Controller::Kind::kNamespace,
                      {{"metadata", {{"name", ns.name}, {"labels", ns.labels}}}});
  }
  for (const auto& [key, pod] : model.pods) {
    controller.Upsert(Controller::Kind::kPod, PodObject(pod));
  }
  for (int i = 0; i < policies; ++i) {
    const Policy policy = MakePolicy(i, namespaces);
    Json object = {{"metadata", {{"namespace", policy.ns}, {"name", policy.name}}}};
    object["spec"]["podSelector"]["matchLabels"]["app"] = absl::StrCat("app-", i % 7);
    Json from = Json::array();
    from.push_back({{"podSelector", {{"matchLabels", {{"tier", "web"}}}}}});
    from.push_back(
        {{"namespaceSelector", {{"matchLabels", {{"team", absl::StrCat("team-", i % 5)}}}}}});
    Json ports = Json::array();
    ports.push_back({{"port", 80}});
    ports.push_back({{"port", "http"}});
    object["spec"]["ingress"] = Json::array({{{"from", from}, {"ports", ports}}});
    controller.Upsert(Controller::Kind::kPolicy, object);
  }
  for (auto kind : {Controller::Kind::kNamespace, Controller::Kind::kPod,
                    Controller::Kind::kPolicy}) {
    controller.MarkListed(kind);
  }
  const auto first = Clock::now();
  if (absl::Status status = controller.Sync(); !status.ok()) {
    std::fprintf(stderr, "first sync: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  std::printf("controller first sync (fake backend): %8.2f ms\n", Ms(Clock::now() - first));
  const Stats controller_event = Measure(21, [&](int run) {
    Pod pod = MakePod(2 * pods + run, namespaces, nodes);
    pod.node = "node-0";
    controller.Upsert(Controller::Kind::kPod, PodObject(pod));
    if (absl::Status status = controller.Sync(); !status.ok()) std::abort();
  });
  std::printf("controller pod event (parse+compile+plan+apply): median %6.2f ms  max %8.2f ms\n",
              controller_event.median, controller_event.max);
  return 0;
}
