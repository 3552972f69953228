// weave-npc's in-memory model: the namespaces, pods and NetworkPolicies it enforces, as plain
// values read from Kubernetes objects (see parse.h). The compiler (npc/compiler/) turns a Model
// into the nftables ruleset of table `inet weave-npc`; nothing here touches the OS.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/net/ip.h"

namespace weave::npc {

using Labels = std::map<std::string, std::string>;

// One requirement of a label selector. matchLabels {k: v} reads as {k, kIn, {v}}.
struct Requirement {
  enum class Operator { kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Operator op = Operator::kIn;
  std::vector<std::string> values;  // kIn/kNotIn: at least one; kExists/kDoesNotExist: none
  friend bool operator==(const Requirement&, const Requirement&) = default;
};

// A metav1.LabelSelector: the AND of its requirements. No requirements selects everything.
struct LabelSelector {
  std::vector<Requirement> requirements;
  bool Matches(const Labels& labels) const;
  friend bool operator==(const LabelSelector&, const LabelSelector&) = default;
};

enum class Protocol { kTcp, kUdp, kSctp };

// A container port as declared in a pod spec (only named ones matter for policy).
struct ContainerPort {
  std::string name;  // IANA_SVC_NAME; empty for an unnamed port
  uint16_t port = 0;
  Protocol protocol = Protocol::kTcp;
  friend bool operator==(const ContainerPort&, const ContainerPort&) = default;
};

struct Namespace {
  std::string name;
  Labels labels;
  // The legacy annotation net.beta.kubernetes.io/network-policy:
  // {"ingress":{"isolation":"DefaultDeny"}}; only honoured with --use-legacy-netpol.
  bool legacy_default_deny = false;
  friend bool operator==(const Namespace&, const Namespace&) = default;
};

struct Pod {
  std::string ns;
  std::string name;
  Labels labels;
  std::string node;               // spec.nodeName; empty until scheduled
  std::optional<net::Ipv4> ip;    // status.podIP; absent until known
  bool host_network = false;      // shares the node's address: never selected by policy peers
  bool terminated = false;        // phase Succeeded or Failed: its address may be reused
  std::vector<ContainerPort> ports;
  friend bool operator==(const Pod&, const Pod&) = default;

  std::string Key() const { return ns + "/" + name; }
  // Whether policy can see this pod: it has an address of its own that is still its.
  bool Addressable() const { return ip.has_value() && !host_network && !terminated; }
};

// A port of a NetworkPolicy rule.
struct PolicyPort {
  Protocol protocol = Protocol::kTcp;
  // monostate: every port of the protocol; uint16_t: a number; std::string: a named container
  // port, resolved per destination pod.
  std::variant<std::monostate, uint16_t, std::string> port;
  std::optional<uint16_t> end_port;  // only with a numeric port; the range port..end_port
  friend bool operator==(const PolicyPort&, const PolicyPort&) = default;
};

struct IpBlock {
  net::Cidr cidr;                  // a network (host bits zero)
  std::vector<net::Cidr> except;   // networks inside cidr
  friend bool operator==(const IpBlock&, const IpBlock&) = default;
};

// A NetworkPolicyPeer: either selectors (one or both) or an ipBlock.
//  - pod_selector only: pods of the policy's namespace matching it;
//  - namespace_selector only: every pod of the matching namespaces;
//  - both: matching pods in matching namespaces;
//  - ip_block: addresses in cidr and not in an except.
struct PolicyPeer {
  std::optional<LabelSelector> pod_selector;
  std::optional<LabelSelector> namespace_selector;
  std::optional<IpBlock> ip_block;
  friend bool operator==(const PolicyPeer&, const PolicyPeer&) = default;
};

// An ingress rule (peers are sources) or an egress rule (peers are destinations). No peers means
// every address; no ports means every port and protocol.
struct PolicyRule {
  std::vector<PolicyPeer> peers;
  std::vector<PolicyPort> ports;
  friend bool operator==(const PolicyRule&, const PolicyRule&) = default;
};

struct Policy {
  std::string ns;
  std::string name;
  LabelSelector pod_selector;  // the pods of `ns` it applies to
  bool ingress = false;        // policyTypes contains Ingress (the API's defaulting applied)
  bool egress = false;         // policyTypes contains Egress
  std::vector<PolicyRule> ingress_rules;
  std::vector<PolicyRule> egress_rules;
  // Non-empty when the rules could not be read (e.g. an invalid selector in a peer): the policy
  // still isolates the pods it selects in its directions but allows nothing (fail closed), and
  // this text says why, for the log, the metric and the status.
  std::string problem;
  friend bool operator==(const Policy&, const Policy&) = default;

  std::string Key() const { return ns + "/" + name; }
};

// Everything the compiler needs, keyed by "name" (namespaces) and "namespace/name".
struct Model {
  std::map<std::string, Namespace> namespaces;
  std::map<std::string, Pod> pods;
  std::map<std::string, Policy> policies;
  friend bool operator==(const Model&, const Model&) = default;
};

}  // namespace weave::npc
