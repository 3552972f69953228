#include "npc/flow_sweeper.h"

#include <catch2/catch.hpp>

#include "npc/compiler/compiler.h"

namespace weave::npc {
namespace {

net::Ipv4 Ip(const char* text) { return *net::Ipv4::Parse(text); }

netlink::conntrack::Flow Tcp(const char* from, const char* to, uint16_t port) {
  netlink::conntrack::Flow flow;
  flow.saddr = Ip(from);
  flow.daddr = Ip(to);
  flow.protocol = netlink::conntrack::kTcp;
  flow.sport = 40000;
  flow.dport = port;
  return flow;
}

TEST_CASE("Doomed: the flows a new policy denies, and never the node's own") {
  Model model;
  model.namespaces["x"] = {"x", {{"kubernetes.io/metadata.name", "x"}}};
  for (auto [name, ip] : {std::pair{"a", "10.32.0.2"}, std::pair{"b", "10.32.0.3"}}) {
    Pod pod;
    pod.ns = "x";
    pod.name = name;
    pod.labels = {{"pod", name}};
    pod.node = "node-1";
    pod.ip = Ip(ip);
    model.pods[pod.Key()] = pod;
  }
  // x/a admits TCP 80 only.
  Policy policy;
  policy.ns = "x";
  policy.name = "web";
  policy.pod_selector = LabelSelector{{{"pod", Requirement::Operator::kIn, {"a"}}}};
  policy.ingress = true;
  policy.ingress_rules.push_back(PolicyRule{{}, {PolicyPort{Protocol::kTcp, uint16_t{80}, {}}}});
  model.policies[policy.Key()] = policy;
  auto ruleset = conformance::Ruleset::Parse(nft::ToText(Compile(model, {.node = "node-1"})));
  REQUIRE(ruleset.ok());
  const std::set<uint32_t> node = {Ip("10.32.0.1").value(), Ip("192.168.1.5").value()};

  CHECK_FALSE(Doomed(Tcp("10.32.0.3", "10.32.0.2", 80), *ruleset, node));  // allowed
  CHECK(Doomed(Tcp("10.32.0.3", "10.32.0.2", 22), *ruleset, node));        // denied now
  CHECK_FALSE(Doomed(Tcp("10.32.0.2", "10.32.0.3", 22), *ruleset, node));  // x/b not isolated
  // The node's own connections to its pods (kubelet probes) never pass the forward hook.
  CHECK_FALSE(Doomed(Tcp("10.32.0.1", "10.32.0.2", 22), *ruleset, node));
  CHECK_FALSE(Doomed(Tcp("10.32.0.2", "192.168.1.5", 22), *ruleset, node));
  netlink::conntrack::Flow gre = Tcp("10.32.0.3", "10.32.0.2", 0);
  gre.protocol = 47;
  CHECK_FALSE(Doomed(gre, *ruleset, node));
}

}  // namespace
}  // namespace weave::npc

namespace weave::npc {
namespace {

TEST_CASE("SweepPause keeps sweeps to a fifth of a core, with a floor") {
  CHECK(SweepPause(absl::ZeroDuration()) == absl::Milliseconds(250));
  CHECK(SweepPause(absl::Milliseconds(10)) == absl::Milliseconds(250));
  CHECK(SweepPause(absl::Milliseconds(60)) == absl::Milliseconds(250));
  CHECK(SweepPause(absl::Milliseconds(100)) == absl::Milliseconds(400));
  CHECK(SweepPause(absl::Seconds(1)) == absl::Seconds(4));
}

}  // namespace
}  // namespace weave::npc
