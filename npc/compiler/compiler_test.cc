#include "npc/compiler/compiler.h"

#include <catch2/catch.hpp>
#include <random>

#include "common/nft/fake_backend.h"
#include "common/nft/plan.h"
#include "npc/conformance/evaluator.h"

namespace weave::npc {
namespace {

net::Ipv4 Ip(const char* text) { return *net::Ipv4::Parse(text); }
net::Cidr Net(const char* text) { return *net::Cidr::Parse(text); }

LabelSelector Select(const std::string& key, const std::string& value) {
  return LabelSelector{{Requirement{key, Requirement::Operator::kIn, {value}}}};
}

Pod MakePod(const std::string& ns, const std::string& name, const char* ip,
            const std::string& node = "node-1") {
  Pod pod;
  pod.ns = ns;
  pod.name = name;
  pod.labels = {{"pod", name}};
  pod.node = node;
  pod.ip = Ip(ip);
  pod.ports = {{"http", 8080, Protocol::kTcp}, {"dns", 53, Protocol::kUdp}};
  return pod;
}

// Namespaces x and y; x/a (10.32.0.2) and x/b (10.32.0.3) on node-1, y/c (10.32.0.4) on node-2.
Model SmallModel() {
  Model model;
  model.namespaces["x"] = {"x", {{"kubernetes.io/metadata.name", "x"}, {"team", "blue"}}};
  model.namespaces["y"] = {"y", {{"kubernetes.io/metadata.name", "y"}}};
  for (Pod pod : {MakePod("x", "a", "10.32.0.2"), MakePod("x", "b", "10.32.0.3"),
                  MakePod("y", "c", "10.32.0.4", "node-2")}) {
    model.pods[pod.Key()] = pod;
  }
  return model;
}

// x/a accepts TCP 80-81 from x/b and from 192.168.0.0/16 except 192.168.1.0/24, and its named
// port "http" from anywhere; its egress goes only to namespace y's UDP "dns".
Policy WebPolicy() {
  Policy policy;
  policy.ns = "x";
  policy.name = "web";
  policy.pod_selector = Select("pod", "a");
  policy.ingress = true;
  policy.egress = true;
  PolicyPeer from_b;
  from_b.pod_selector = Select("pod", "b");
  PolicyPeer block;
  block.ip_block = IpBlock{Net("192.168.0.0/16"), {Net("192.168.1.0/24")}};
  policy.ingress_rules.push_back(
      PolicyRule{{from_b, block}, {PolicyPort{Protocol::kTcp, uint16_t{80}, uint16_t{81}}}});
  policy.ingress_rules.push_back(PolicyRule{{}, {PolicyPort{Protocol::kTcp, "http", {}}}});
  PolicyPeer to_y;
  to_y.namespace_selector = Select("kubernetes.io/metadata.name", "y");
  policy.egress_rules.push_back(PolicyRule{{to_y}, {PolicyPort{Protocol::kUdp, "dns", {}}}});
  return policy;
}

constexpr char kWebPolicyTable[] = R"(table inet weave-npc {
	set ingress-isolated {
		type ipv4_addr
		elements = { 10.32.0.2 }
	}

	set egress-isolated {
		type ipv4_addr
		elements = { 10.32.0.2 }
	}

	set in.x.web.sel {
		type ipv4_addr
		elements = { 10.32.0.2 }
	}

	set in.x.web.0.nets {
		type ipv4_addr
		flags interval
		elements = { 10.32.0.3, 192.168.0.0/24,
			     192.168.2.0/23, 192.168.4.0/22,
			     192.168.8.0/21, 192.168.16.0/20,
			     192.168.32.0/19, 192.168.64.0/18,
			     192.168.128.0/17 }
	}

	set in.x.web.1.np {
		type ipv4_addr . inet_proto . inet_service
		elements = { 10.32.0.2 . tcp . 8080 }
	}

	set eg.x.web.sel {
		type ipv4_addr
		elements = { 10.32.0.2 }
	}

	set eg.x.web.0.np {
		type ipv4_addr . inet_proto . inet_service
		elements = { 10.32.0.4 . udp . 53 }
	}

	chain egress {
		type filter hook forward priority filter - 1; policy accept;
		ct state established,related accept
		ip saddr != @egress-isolated accept
		ip daddr 224.0.0.0/4 accept
		ip saddr @eg.x.web.sel jump eg.x.web
		log prefix "weave-npc egress: " group 86 drop
	}

	chain ingress {
		type filter hook forward priority filter; policy accept;
		ct state established,related accept
		ip daddr != @ingress-isolated accept
		ip daddr 224.0.0.0/4 accept
		ip daddr @in.x.web.sel jump in.x.web
		log prefix "weave-npc ingress: " group 86 drop
	}

	chain in.x.web {
		ip saddr @in.x.web.0.nets tcp dport 80-81 accept
		ip daddr . meta l4proto . th dport @in.x.web.1.np accept
	}

	chain eg.x.web {
		ip daddr . meta l4proto . th dport @eg.x.web.0.np accept
	}
}
)";

TEST_CASE("Compile: the golden table of a policy with every kind of peer and port") {
  Model model = SmallModel();
  Policy policy = WebPolicy();
  model.policies[policy.Key()] = policy;
  const nft::Table table = Compile(model, {.node = "node-1"});
  REQUIRE(nft::ValidateTable(table).ok());
  CHECK(nft::ToText(table) == kWebPolicyTable);
}

TEST_CASE("Compile: pod peers make a hash set, ipBlocks an interval set of another name") {
  Model model = SmallModel();
  Policy policy;
  policy.ns = "x";
  policy.name = "p";
  policy.pod_selector = Select("pod", "a");
  policy.ingress = true;
  PolicyPeer from_x;
  from_x.namespace_selector = Select("kubernetes.io/metadata.name", "x");
  policy.ingress_rules.push_back(PolicyRule{{from_x}, {}});
  model.policies[policy.Key()] = policy;
  const nft::Table pods_only = nft::Normalize(Compile(model, {.node = "node-1"}));
  const nft::Set* set = pods_only.FindSet("in.x.p.0");
  REQUIRE(set != nullptr);
  CHECK_FALSE(set->interval);
  CHECK(set->elements == std::vector<nft::Element>{net::Cidr(Ip("10.32.0.2"), 32),
                                                   net::Cidr(Ip("10.32.0.3"), 32)});
  CHECK(pods_only.FindSet("in.x.p.0.nets") == nullptr);

  // The same rule with an ipBlock: the set is an interval set, under its own name.
  PolicyPeer block;
  block.ip_block = IpBlock{Net("192.168.0.0/16"), {}};
  model.policies[policy.Key()].ingress_rules[0].peers.push_back(block);
  const nft::Table with_block = nft::Normalize(Compile(model, {.node = "node-1"}));
  set = with_block.FindSet("in.x.p.0.nets");
  REQUIRE(set != nullptr);
  CHECK(set->interval);
  CHECK(set->elements.size() == 3);
  CHECK(with_block.FindSet("in.x.p.0") == nullptr);

  // Either way round, the edit is a small transaction (a set swapped), not the whole table.
  for (const auto& [from, to] : {std::pair(&pods_only, &with_block), {&with_block, &pods_only}}) {
    const nft::Transaction transaction = nft::Plan(from, *to);
    REQUIRE_FALSE(transaction.empty());
    for (const nft::Operation& operation : transaction.operations) {
      CHECK_FALSE(std::holds_alternative<nft::ReplaceTable>(operation));
    }
  }
}

TEST_CASE("Compile: the table of a node is what the fake backend accepts and dumps back") {
  Model model = SmallModel();
  model.policies["x/web"] = WebPolicy();
  nft::FakeBackend backend;
  const nft::Table table = Compile(model, {.node = "node-1"});
  REQUIRE(backend.Apply(nft::Plan(std::nullopt, table)).ok());
  auto dumped = backend.Dump(nft::Family::kInet, kTableName);
  REQUIRE(dumped.ok());
  REQUIRE(dumped->has_value());
  CHECK(nft::SameContent(**dumped, nft::Normalize(table)));
}

TEST_CASE("Compile: another node enforces only its own pods") {
  Model model = SmallModel();
  model.policies["x/web"] = WebPolicy();
  const nft::Table table = Compile(model, {.node = "node-2"});
  // x/a lives on node-1: node-2 isolates nobody, but keeps the policy's peer sets (for its own
  // pods' sake they would matter; the chain layout is the same on every node).
  CHECK(table.FindSet("ingress-isolated")->elements.empty());
  CHECK(table.FindSet("in.x.web.sel")->elements.empty());
  CHECK(table.FindSet("in.x.web.1.np")->elements.empty());
  CHECK(table.FindSet("eg.x.web.0.np")->elements.size() == 1);
}

TEST_CASE("Compile: pod churn changes set elements and no chain") {
  Model model = SmallModel();
  model.policies["x/web"] = WebPolicy();
  nft::FakeBackend backend;
  REQUIRE(backend.Apply(nft::Plan(std::nullopt, Compile(model, {.node = "node-1"}))).ok());

  Pod d = MakePod("x", "d", "10.32.0.9");
  d.labels["pod"] = "b";  // a second source the policy admits
  model.pods[d.Key()] = d;
  model.pods.erase("y/c");
  const nft::Table desired = Compile(model, {.node = "node-1"});
  const nft::Transaction transaction =
      nft::Plan(*backend.Dump(nft::Family::kInet, kTableName), desired);
  REQUIRE(!transaction.empty());
  for (const nft::Operation& operation : transaction.operations) {
    INFO(nft::Describe(operation));
    CHECK((std::holds_alternative<nft::AddElements>(operation) ||
           std::holds_alternative<nft::DeleteElements>(operation)));
  }
  REQUIRE(backend.Apply(transaction).ok());
  CHECK(nft::SameContent(**backend.Dump(nft::Family::kInet, kTableName), nft::Normalize(desired)));
}

TEST_CASE("Compile: a policy that could not be read isolates its pods and allows nothing") {
  Model model = SmallModel();
  model.policies["x/web"] = WebPolicy();
  const nft::Table before = Compile(model, {.node = "node-1"});

  Policy broken;
  broken.ns = "x";
  broken.name = "broken";
  broken.pod_selector = Select("pod", "b");
  broken.ingress = true;
  broken.problem = "spec.ingress[0].from[0].podSelector: invalid";
  model.policies[broken.Key()] = broken;
  const nft::Table after = Compile(model, {.node = "node-1"});

  const nft::Chain* chain = after.FindChain(IngressChainName(broken));
  REQUIRE(chain != nullptr);
  CHECK(chain->rules.empty());
  CHECK(after.FindSet("ingress-isolated")->elements.size() == 2);
  // Every other policy's chains and sets are exactly as before.
  for (const nft::Chain& other : before.chains) {
    if (other.base.has_value()) continue;
    REQUIRE(after.FindChain(other.name) != nullptr);
    CHECK(*after.FindChain(other.name) == other);
  }
  for (const nft::Set& other : before.sets) {
    if (other.name.ends_with("isolated")) continue;
    REQUIRE(after.FindSet(other.name) != nullptr);
    CHECK(*after.FindSet(other.name) == other);
  }
}

TEST_CASE("Compile: names stay valid for the longest Kubernetes names") {
  Model model = SmallModel();
  Policy policy = WebPolicy();
  policy.ns = std::string(63, 'n');
  policy.name = std::string(253, 'p');
  model.policies[policy.Key()] = policy;
  const nft::Table table = Compile(model, {.node = "node-1"});
  CHECK(nft::ValidateTable(table).ok());
  CHECK(IngressChainName(policy).size() < 220);
  Policy other = policy;
  other.name.back() = 'q';
  CHECK(IngressChainName(other) != IngressChainName(policy));
}

TEST_CASE("Compile: multicast is accepted by default and dropped with --allow-mcast=false") {
  Model model = SmallModel();
  model.policies["x/web"] = WebPolicy();
  using conformance::Fate;
  conformance::Packet packet;
  packet.saddr = Ip("10.32.0.3");
  packet.daddr = Ip("239.1.1.1");
  packet.protocol = 17;
  packet.dport = 5000;
  for (bool allow : {true, false}) {
    const nft::Table table = Compile(model, {.node = "node-1", .allow_mcast = allow});
    auto ruleset = conformance::Ruleset::Parse(nft::ToText(table));
    REQUIRE(ruleset.ok());
    CHECK((ruleset->Evaluate("forward", packet).fate == Fate::kAccept) == allow);
  }
}

TEST_CASE("Compile: legacy mode isolates annotated namespaces for ingress only") {
  Model model = SmallModel();
  model.namespaces["x"].legacy_default_deny = true;
  Policy policy = WebPolicy();
  policy.pod_selector = Select("pod", "b");  // admits from x/b to x/b's ... selects x/b only
  model.policies[policy.Key()] = policy;
  const nft::Table table = Compile(model, {.node = "node-1", .legacy_netpol = true});
  // Both pods of x are isolated by the annotation, not by the policy's selection.
  CHECK(table.FindSet("ingress-isolated")->elements.size() == 2);
  CHECK(table.FindSet("egress-isolated")->elements.empty());
  CHECK(table.FindChain(EgressChainName(policy)) == nullptr);
}

}  // namespace
}  // namespace weave::npc

namespace weave::npc {
namespace {

// Random pod, namespace and policy churn: the incremental compiler must always give what a
// full compile gives.
TEST_CASE("Compiler: incremental compiles equal full compiles under random churn") {
  std::mt19937 random(7);
  const auto pick = [&](int n) { return static_cast<int>(random() % n); };
  Model model = SmallModel();
  model.namespaces["z"] = {"z", {{"kubernetes.io/metadata.name", "z"}, {"team", "red"}}};
  const std::vector<std::string> namespaces = {"x", "y", "z"};
  const std::vector<std::string> values = {"a", "b", "c"};
  const auto random_policy = [&](int i) {
    Policy policy;
    policy.ns = namespaces[pick(3)];
    policy.name = "p" + std::to_string(i);
    policy.pod_selector = Select("pod", values[pick(3)]);
    policy.ingress = pick(2) == 0;
    policy.egress = !policy.ingress || pick(2) == 0;
    for (std::vector<PolicyRule>* rules : {&policy.ingress_rules, &policy.egress_rules}) {
      PolicyRule rule;
      PolicyPeer peer;
      switch (pick(4)) {
        case 0:
          peer.pod_selector = Select("pod", values[pick(3)]);
          break;
        case 1:
          peer.namespace_selector = Select("team", pick(2) ? "blue" : "red");
          break;
        case 2:
          peer.namespace_selector = LabelSelector{};
          peer.pod_selector = Select("pod", values[pick(3)]);
          break;
        default:
          peer.ip_block = IpBlock{Net("10.32.0.0/28"), {Net("10.32.0.4/30")}};
      }
      rule.peers.push_back(peer);
      if (pick(2)) rule.ports.push_back(PolicyPort{Protocol::kTcp, std::string("http"), {}});
      if (pick(2)) rule.ports.push_back(PolicyPort{Protocol::kUdp, uint16_t{53}, {}});
      rules->push_back(rule);
    }
    return policy;
  };
  for (int i = 0; i < 4; ++i) {
    Policy policy = random_policy(i);
    model.policies[policy.Key()] = policy;
  }
  for (const std::string node : {"node-1", "node-2"}) {
    Compiler compiler({.node = node});
    for (int step = 0; step < 300; ++step) {
      switch (pick(6)) {
        case 0: {  // a new pod, or one replaced
          Pod pod = MakePod(namespaces[pick(3)], "p" + std::to_string(pick(12)),
                            ("10.32.0." + std::to_string(2 + pick(14))).c_str(),
                            pick(2) ? "node-1" : "node-2");
          pod.labels["pod"] = values[pick(3)];
          if (pick(3) == 0) pod.ports.clear();
          model.pods[pod.Key()] = pod;
          break;
        }
        case 1:  // a pod goes
          if (!model.pods.empty()) {
            auto it = model.pods.begin();
            std::advance(it, pick(static_cast<int>(model.pods.size())));
            model.pods.erase(it);
          }
          break;
        case 2:  // a pod is relabelled, loses its address or terminates
          if (!model.pods.empty()) {
            auto it = model.pods.begin();
            std::advance(it, pick(static_cast<int>(model.pods.size())));
            const int what = pick(3);
            if (what == 0) it->second.labels["pod"] = values[pick(3)];
            if (what == 1) it->second.ip.reset();
            if (what == 2) it->second.terminated = true;
          }
          break;
        case 3:  // a namespace is relabelled
          model.namespaces[namespaces[pick(3)]].labels["team"] = pick(2) ? "blue" : "red";
          break;
        case 4: {  // a policy is created or replaced
          Policy policy = random_policy(pick(6));
          model.policies[policy.Key()] = policy;
          break;
        }
        default:  // a policy goes
          if (!model.policies.empty()) model.policies.erase(model.policies.begin());
      }
      const nft::Table incremental = compiler.Compile(model);
      const nft::Table full = Compile(model, {.node = node});
      INFO("node " << node << " step " << step);
      REQUIRE(incremental == full);
    }
  }
}

}  // namespace
}  // namespace weave::npc
