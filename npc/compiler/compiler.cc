#include "npc/compiler/compiler.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace weave::npc {
namespace {

using nft::Field;

constexpr char kIngressIsolated[] = "ingress-isolated";
constexpr char kEgressIsolated[] = "egress-isolated";
constexpr char kMetadataNameLabel[] = "kubernetes.io/metadata.name";

// nftables names are at most 255 bytes; a policy's longest derived name adds a prefix and a
// suffix such as ".123.nets" to NS.NAME, so NS.NAME beyond this is shortened.
constexpr size_t kMaxBaseName = 200;

const net::Cidr& Multicast() {
  static const net::Cidr multicast(net::Ipv4(0xe0000000), 4);
  return multicast;
}

// FNV-1a: stable across builds and runs, which names that outlive a weave-npc process need.
uint64_t StableHash(absl::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::string ChainName(absl::string_view prefix, const Policy& policy) {
  std::string base = absl::StrCat(policy.ns, ".", policy.name);
  if (base.size() > kMaxBaseName) {
    base = absl::StrFormat("%s-%016x", base.substr(0, kMaxBaseName - 17), StableHash(base));
  }
  return absl::StrCat(prefix, base);
}

nft::L4Proto ToL4Proto(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return nft::kTcp;
    case Protocol::kUdp:
      return nft::kUdp;
    case Protocol::kSctp:
      return nft::kSctp;
  }
  return nft::kTcp;
}

Field DportField(Protocol protocol) {
  switch (protocol) {
    case Protocol::kTcp:
      return Field::kTcpDport;
    case Protocol::kUdp:
      return Field::kUdpDport;
    case Protocol::kSctp:
      return Field::kSctpDport;
  }
  return Field::kTcpDport;
}

nft::Element Host(net::Ipv4 ip) { return net::Cidr(ip, 32); }

// `cidr` without the addresses of `holes`, as a list of disjoint networks.
void Subtract(const net::Cidr& cidr, const std::vector<net::Cidr>& holes,
              std::vector<net::Cidr>& out) {
  bool split = false;
  for (const net::Cidr& hole : holes) {
    if (!hole.Overlaps(cidr)) continue;
    if (hole.Contains(cidr)) return;
    split = true;
  }
  if (!split) {
    out.push_back(cidr);
    return;
  }
  // A hole lies strictly inside: recurse into both halves.
  const int length = cidr.prefix_length() + 1;
  const uint32_t low = cidr.network().value();
  const uint32_t high = low | (uint32_t{1} << (32 - length));
  Subtract(net::Cidr(net::Ipv4(low), length), holes, out);
  Subtract(net::Cidr(net::Ipv4(high), length), holes, out);
}

// Networks either nest or are disjoint: keeping the outermost ones gives non-overlapping
// interval elements, which nftables requires.
std::vector<nft::Element> Intervals(const std::vector<net::Cidr>& networks) {
  // Sorted by first address, then by size (larger first): a network follows every network
  // that contains it. Keys are computed once; a pod peer set is thousands of /32s.
  std::vector<std::pair<uint64_t, const net::Cidr*>> keyed;
  keyed.reserve(networks.size());
  for (const net::Cidr& network : networks) {
    keyed.emplace_back(uint64_t{network.network().value()} << 6 | network.prefix_length(),
                       &network);
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<nft::Element> out;
  out.reserve(keyed.size());
  uint64_t last_end = 0;  // one past the last address covered so far
  for (const auto& [key, network] : keyed) {
    const uint64_t first = key >> 6;
    if (!out.empty() && first < last_end) continue;  // inside the previous network
    out.push_back(network->Network());
    last_end = first + network->Size();
  }
  return out;
}

bool InBlock(net::Ipv4 ip, const IpBlock& block) {
  if (!block.cidr.Contains(ip)) return false;
  return std::none_of(block.except.begin(), block.except.end(),
                      [&](const net::Cidr& hole) { return hole.Contains(ip); });
}

// The model indexed for selector evaluation.
class Index {
 public:
  Index(const Model& model, const CompileOptions& options) : model_(model), options_(options) {
    for (const auto& [key, pod] : model.pods) {
      if (pod.Addressable()) pods_by_namespace_[pod.ns].push_back(&pod);
      if (pod.Addressable()) addressable_.push_back(&pod);
    }
  }

  const CompileOptions& options() const { return options_; }
  const std::vector<const Pod*>& addressable() const { return addressable_; }

  const std::vector<const Pod*>& PodsIn(const std::string& ns) const {
    static const std::vector<const Pod*> kNone;
    auto it = pods_by_namespace_.find(ns);
    return it == pods_by_namespace_.end() ? kNone : it->second;
  }

  // This node's pods the policy applies to.
  std::vector<const Pod*> Selected(const Policy& policy) const {
    std::vector<const Pod*> out;
    for (const Pod* pod : PodsIn(policy.ns)) {
      if (pod->node == options_.node && policy.pod_selector.Matches(pod->labels)) {
        out.push_back(pod);
      }
    }
    return out;
  }

  // The pods (of any node) a selector peer stands for.
  void AddPeerPods(const Policy& policy, const PolicyPeer& peer,
                   std::vector<const Pod*>& out) const {
    const auto add_from = [&](const std::string& ns) {
      for (const Pod* pod : PodsIn(ns)) {
        if (!peer.pod_selector.has_value() || peer.pod_selector->Matches(pod->labels)) {
          out.push_back(pod);
        }
      }
    };
    if (!peer.namespace_selector.has_value()) {
      add_from(policy.ns);
      return;
    }
    for (const auto& [ns, pods] : pods_by_namespace_) {
      if (peer.namespace_selector->Matches(NamespaceLabels(ns))) add_from(ns);
    }
  }

  // Local pods in namespaces that the legacy annotation isolates.
  std::vector<const Pod*> LegacyIsolated() const {
    std::vector<const Pod*> out;
    for (const auto& [name, ns] : model_.namespaces) {
      if (!ns.legacy_default_deny) continue;
      for (const Pod* pod : PodsIn(name)) {
        if (pod->node == options_.node) out.push_back(pod);
      }
    }
    return out;
  }

 private:
  // A namespace not (yet) seen has only the label the API server gives every namespace.
  const Labels& NamespaceLabels(const std::string& ns) const {
    auto it = model_.namespaces.find(ns);
    if (it != model_.namespaces.end()) return it->second.labels;
    auto [unknown, inserted] = unknown_namespaces_.try_emplace(ns);
    if (inserted) unknown->second[kMetadataNameLabel] = ns;
    return unknown->second;
  }

  const Model& model_;
  const CompileOptions& options_;
  std::unordered_map<std::string, std::vector<const Pod*>> pods_by_namespace_;
  std::vector<const Pod*> addressable_;
  mutable std::unordered_map<std::string, Labels> unknown_namespaces_;
};

enum class Direction { kIngress, kEgress };

nft::Set AddressSet(std::string name, bool interval, std::vector<nft::Element> elements) {
  nft::Set set{std::move(name), nft::SetKeyType::kIpv4Addr, interval, false, std::move(elements)};
  set.elements = nft::SortedElements(std::move(set.elements));
  return set;
}

std::vector<nft::Element> Hosts(const std::vector<const Pod*>& pods) {
  std::vector<nft::Element> out;
  out.reserve(pods.size());
  for (const Pod* pod : pods) out.push_back(Host(*pod->ip));
  return out;
}

using compiler_internal::CachedOutput;
using compiler_internal::PolicyOutput;

// Compiles one direction of one policy: its chain, its sets, and the pods it isolates.
class PolicyCompiler {
 public:
  PolicyCompiler(const Index& index, const Policy& policy, Direction direction)
      : index_(index), policy_(policy), direction_(direction) {}

  PolicyOutput Compile() {
    PolicyOutput out;
    const std::string chain_name = direction_ == Direction::kIngress
                                       ? IngressChainName(policy_)
                                       : EgressChainName(policy_);
    const std::vector<const Pod*> selected = index_.Selected(policy_);
    out.isolated = Hosts(selected);
    out.sets.push_back(AddressSet(chain_name + ".sel", false, out.isolated));

    out.chain = nft::Chain{chain_name, std::nullopt, {}};
    const std::vector<PolicyRule>& rules =
        direction_ == Direction::kIngress ? policy_.ingress_rules : policy_.egress_rules;
    for (size_t i = 0; i < rules.size(); ++i) {
      CompileRule(rules[i], absl::StrCat(chain_name, ".", i), selected, out.sets, out.chain);
    }
    return out;
  }

 private:
  Field PeerField() const {
    return direction_ == Direction::kIngress ? Field::kIpSaddr : Field::kIpDaddr;
  }

  void CompileRule(const PolicyRule& rule, const std::string& set_prefix,
                   const std::vector<const Pod*>& selected, std::vector<nft::Set>& sets,
                   nft::Chain& chain) {
    std::vector<const Pod*> peer_pods;
    std::optional<nft::Match> peer_match;
    const size_t peer_set = sets.size();  // where the peer set goes, if the rule has peers
    const size_t rules_before = chain.rules.size();
    if (!rule.peers.empty()) {
      std::vector<net::Cidr> networks;
      bool blocks = false;
      for (const PolicyPeer& peer : rule.peers) {
        if (peer.ip_block.has_value()) {
          Subtract(peer.ip_block->cidr, peer.ip_block->except, networks);
          blocks = true;
        } else {
          index_.AddPeerPods(policy_, peer, peer_pods);
        }
      }
      // Pod addresses alone make a hash set: the kernel loads it about twice as fast as an
      // interval set and looks addresses up in constant time. With ipBlocks it is an interval
      // set, under its own name: the shape follows the policy, never its pods, and a policy
      // edit that changes it swaps one set for another instead of redefining one.
      const std::string set_name = blocks ? set_prefix + ".nets" : set_prefix;
      if (blocks) {
        for (const Pod* pod : peer_pods) networks.push_back(net::Cidr(*pod->ip, 32));
        sets.push_back(AddressSet(set_name, true, Intervals(networks)));
      } else {
        sets.push_back(AddressSet(set_name, false, Hosts(peer_pods)));
      }
      peer_match = nft::InSet(PeerField(), set_name);
    }
    const auto add_rule = [&](std::vector<nft::Statement> statements) {
      nft::Rule out;
      if (peer_match.has_value()) out.statements.push_back(*peer_match);
      for (nft::Statement& statement : statements) out.statements.push_back(std::move(statement));
      out.statements.push_back(nft::Accept());
      chain.rules.push_back(std::move(out));
    };
    if (rule.ports.empty()) {
      add_rule({});
      return;
    }
    std::vector<const PolicyPort*> named;
    for (const PolicyPort& port : rule.ports) {
      if (std::holds_alternative<std::string>(port.port)) {
        named.push_back(&port);
      } else if (const auto* number = std::get_if<uint16_t>(&port.port)) {
        add_rule({nft::Is(DportField(port.protocol),
                          nft::PortRange{*number, port.end_port.value_or(*number)})});
      } else {
        add_rule({nft::Is(Field::kL4Proto, ToL4Proto(port.protocol))});
      }
    }
    if (named.empty()) return;
    // A named port means a number per destination pod: the ingress rule's destinations are the
    // pods the policy selects, the egress rule's are its peers.
    std::vector<const Pod*> destinations;
    if (direction_ == Direction::kIngress) {
      destinations = selected;
    } else if (rule.peers.empty()) {
      destinations = index_.addressable();
    } else {
      destinations = std::move(peer_pods);
      for (const Pod* pod : index_.addressable()) {
        for (const PolicyPeer& peer : rule.peers) {
          if (peer.ip_block.has_value() && InBlock(*pod->ip, *peer.ip_block)) {
            destinations.push_back(pod);
            break;
          }
        }
      }
    }
    std::vector<nft::Element> elements;
    for (const Pod* pod : destinations) {
      for (const PolicyPort* port : named) {
        const std::string& name = std::get<std::string>(port->port);
        for (const ContainerPort& declared : pod->ports) {
          if (declared.name == name && declared.protocol == port->protocol) {
            elements.push_back(
                nft::AddrProtoPort{*pod->ip, ToL4Proto(declared.protocol), declared.port});
          }
        }
      }
    }
    // An egress rule whose ports are all named matches its peers through this set alone (its
    // elements are the peers' addresses): the peer set would be referenced by no rule.
    if (direction_ == Direction::kEgress && peer_match.has_value() &&
        chain.rules.size() == rules_before) {
      sets.erase(sets.begin() + peer_set);
    }
    const std::string set_name = set_prefix + ".np";
    sets.push_back(nft::Set{set_name, nft::SetKeyType::kIpv4AddrProtoService, false, false,
                            nft::SortedElements(std::move(elements))});
    nft::Rule out;
    if (direction_ == Direction::kIngress && peer_match.has_value()) {
      out.statements.push_back(*peer_match);
    }
    out.statements.push_back(nft::InSet(Field::kIpDaddrL4ProtoThDport, set_name));
    out.statements.push_back(nft::Accept());
    chain.rules.push_back(std::move(out));
  }

  const Index& index_;
  const Policy& policy_;
  Direction direction_;
};

// The base chain of one direction: replies, the unisolated, multicast, then each policy.
nft::Chain BaseChain(Direction direction, const std::vector<const Policy*>& policies,
                     const CompileOptions& options) {
  const bool ingress = direction == Direction::kIngress;
  const Field own = ingress ? Field::kIpDaddr : Field::kIpSaddr;
  nft::Chain chain{ingress ? "ingress" : "egress",
                   nft::BaseChain{nft::ChainType::kFilter, nft::Hook::kForward, ingress ? 0 : -1,
                                  nft::Policy::kAccept},
                   {}};
  const nft::Log log{ingress ? "weave-npc ingress: " : "weave-npc egress: ", options.nflog_group};
  chain.rules.push_back(nft::Rule{
      {nft::Is(Field::kCtState, nft::CtStates{nft::kCtEstablished | nft::kCtRelated}),
       nft::Accept()}});
  if (ingress && !options.allow_mcast) {
    chain.rules.push_back(nft::Rule{{nft::Is(Field::kIpDaddr, Multicast()), log, nft::Drop()},
                                    "--allow-mcast=false"});
  }
  chain.rules.push_back(
      nft::Rule{{nft::NotInSet(own, ingress ? kIngressIsolated : kEgressIsolated), nft::Accept()}});
  if (options.allow_mcast) {
    chain.rules.push_back(nft::Rule{{nft::Is(Field::kIpDaddr, Multicast()), nft::Accept()}});
  }
  for (const Policy* policy : policies) {
    const std::string target = ingress ? IngressChainName(*policy) : EgressChainName(*policy);
    chain.rules.push_back(nft::Rule{{nft::InSet(own, target + ".sel"), nft::Jump(target)}});
  }
  chain.rules.push_back(nft::Rule{{log, nft::Drop()}});
  return chain;
}

}  // namespace

std::string IngressChainName(const Policy& policy) { return ChainName("in.", policy); }
std::string EgressChainName(const Policy& policy) { return ChainName("eg.", policy); }

namespace {

// Whether `pod` (one version of a changed pod) can change what `policy` compiles to in
// `direction`: it is, or would be, one of the pods it selects here, or one of its peers (also
// through an ipBlock, for named ports).
bool Concerns(const Policy& policy, Direction direction, const Pod& pod, const Model& model,
              const CompileOptions& options) {
  if (!pod.Addressable()) return false;
  if (pod.ns == policy.ns && pod.node == options.node && policy.pod_selector.Matches(pod.labels)) {
    return true;
  }
  const std::vector<PolicyRule>& rules =
      direction == Direction::kIngress ? policy.ingress_rules : policy.egress_rules;
  for (const PolicyRule& rule : rules) {
    const bool named = std::any_of(rule.ports.begin(), rule.ports.end(), [](const PolicyPort& p) {
      return std::holds_alternative<std::string>(p.port);
    });
    if (rule.peers.empty() && named && direction == Direction::kEgress) return true;
    for (const PolicyPeer& peer : rule.peers) {
      if (peer.ip_block.has_value()) {
        if (named && direction == Direction::kEgress && InBlock(*pod.ip, *peer.ip_block)) {
          return true;
        }
        continue;
      }
      if (peer.pod_selector.has_value() && !peer.pod_selector->Matches(pod.labels)) continue;
      if (!peer.namespace_selector.has_value()) {
        if (pod.ns == policy.ns) return true;
        continue;
      }
      auto ns = model.namespaces.find(pod.ns);
      Labels unknown = {{kMetadataNameLabel, pod.ns}};
      if (peer.namespace_selector->Matches(ns == model.namespaces.end() ? unknown
                                                                        : ns->second.labels)) {
        return true;
      }
    }
  }
  return false;
}

// The pods that differ between two models, each version that exists.
std::vector<const Pod*> ChangedPods(const Model& before, const Model& after) {
  std::vector<const Pod*> out;
  auto a = before.pods.begin();
  auto b = after.pods.begin();
  while (a != before.pods.end() || b != after.pods.end()) {
    if (b == after.pods.end() || (a != before.pods.end() && a->first < b->first)) {
      out.push_back(&a->second);
      ++a;
    } else if (a == before.pods.end() || b->first < a->first) {
      out.push_back(&b->second);
      ++b;
    } else {
      if (!(a->second == b->second)) {
        out.push_back(&a->second);
        out.push_back(&b->second);
      }
      ++a;
      ++b;
    }
  }
  return out;
}

}  // namespace

Compiler::Compiler(CompileOptions options) : options_(std::move(options)) {}
Compiler::~Compiler() = default;

nft::Table Compiler::Compile(Model model) {
  const Index index(model, options_);
  // What can be kept from the previous compile: a policy's output depends on the policy, the
  // namespaces' labels and the pods it selects or names as peers. A namespace change (rare)
  // recompiles everything; a pod change only the policies it concerns.
  const bool keep = previous_.has_value() && previous_->namespaces == model.namespaces;
  std::vector<const Pod*> changed;
  if (keep) changed = ChangedPods(*previous_, model);

  nft::Table table{nft::Family::kInet, kTableName, {}, {}};
  table.sets.push_back(AddressSet(kIngressIsolated, false, {}));
  table.sets.push_back(AddressSet(kEgressIsolated, false, {}));

  std::vector<const Policy*> ingress_policies;
  std::vector<const Policy*> egress_policies;
  for (const auto& [key, policy] : model.policies) {
    if (policy.ingress) ingress_policies.push_back(&policy);
    // Legacy mode enforces ingress only, and isolates by namespace annotation.
    if (policy.egress && !options_.legacy_netpol) egress_policies.push_back(&policy);
  }
  table.chains.push_back(BaseChain(Direction::kEgress, egress_policies, options_));
  table.chains.push_back(BaseChain(Direction::kIngress, ingress_policies, options_));

  std::map<std::string, CachedOutput> ingress_cache;
  std::map<std::string, CachedOutput> egress_cache;
  std::vector<nft::Element> isolated[2];
  const auto add = [&](const std::vector<const Policy*>& policies, Direction direction,
                       std::map<std::string, CachedOutput>& cache,
                       std::map<std::string, CachedOutput>& next) {
    for (const Policy* policy : policies) {
      auto cached = cache.find(policy->Key());
      const bool reuse = keep && cached != cache.end() && cached->second.policy == *policy &&
                         std::none_of(changed.begin(), changed.end(), [&](const Pod* pod) {
                           return Concerns(*policy, direction, *pod, model, options_);
                         });
      CachedOutput entry = reuse ? std::move(cached->second)
                                 : CachedOutput{*policy,
                                                PolicyCompiler(index, *policy, direction).Compile()};
      table.chains.push_back(entry.output.chain);
      for (const nft::Set& set : entry.output.sets) table.sets.push_back(set);
      std::vector<nft::Element>& out = isolated[direction == Direction::kIngress ? 0 : 1];
      out.insert(out.end(), entry.output.isolated.begin(), entry.output.isolated.end());
      next.insert_or_assign(policy->Key(), std::move(entry));
    }
  };
  add(ingress_policies, Direction::kIngress, ingress_, ingress_cache);
  add(egress_policies, Direction::kEgress, egress_, egress_cache);
  ingress_ = std::move(ingress_cache);
  egress_ = std::move(egress_cache);

  if (options_.legacy_netpol) isolated[0] = Hosts(index.LegacyIsolated());
  table.sets[0].elements = nft::SortedElements(std::move(isolated[0]));
  table.sets[1].elements = nft::SortedElements(std::move(isolated[1]));
  previous_ = std::move(model);
  return table;
}

nft::Table Compile(const Model& model, const CompileOptions& options) {
  return Compiler(options).Compile(model);
}

}  // namespace weave::npc
