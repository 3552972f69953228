// The policy compiler: a pure function from the model (namespaces, pods, NetworkPolicies) to the
// nftables table `inet weave-npc` that enforces them for the pods of one node.
//
// The table (names are stable, so that pod churn only changes set elements):
//
//   set ingress-isolated / egress-isolated   this node's pods isolated in that direction
//   chain egress   hook forward, priority filter - 1, policy accept:
//       ct state established,related accept          replies of allowed connections
//       ip saddr != @egress-isolated accept
//       ip daddr 224.0.0.0/4 accept                   (unless --allow-mcast=false)
//       ip saddr @eg.NS.NAME.sel jump eg.NS.NAME       one per policy with Egress
//       log prefix "weave-npc egress: " group 86 drop  nothing allowed it
//   chain ingress  hook forward, priority filter, policy accept: the same with daddr and
//       ingress-isolated; with --allow-mcast=false it drops multicast first.
//   chain in.NS.NAME / eg.NS.NAME   one nft rule per port entry of each policy rule, e.g.
//       ip saddr @in.NS.NAME.0 tcp dport 80-81 accept
//       ip saddr @in.NS.NAME.0 ip daddr . meta l4proto . th dport @in.NS.NAME.0.np accept
//   set in.NS.NAME.sel   this node's pods the policy selects
//   set in.NS.NAME.I     the peers of rule I: pod addresses (a hash set)
//   set in.NS.NAME.I.nets    instead, for a rule with ipBlocks: its pods and networks, as
//                        intervals
//   set in.NS.NAME.I.np  named ports of rule I resolved to (pod address, protocol, port)
//
// Why two base chains: an `accept` ends only its own base chain, so a packet the egress chain
// accepts still meets the ingress chain (a connection needs both), while a `drop` is final.
// Only the forward hook is used: bridged pod traffic reaches it through br_netfilter, and the
// node's own traffic to its pods (kubelet probes) and pods' traffic to their node never pass it,
// so both are always allowed. Ingress is judged on the destination's node and egress on the
// source's, because each node's sets hold only its own pods.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/nft/ruleset.h"
#include "npc/model/model.h"

namespace weave::npc {

inline constexpr char kTableName[] = "weave-npc";

struct CompileOptions {
  std::string node;                // pods with spec.nodeName == node are this node's
  bool allow_mcast = true;         // --allow-mcast
  bool legacy_netpol = false;      // --use-legacy-netpol
  uint16_t nflog_group = 86;       // where blocked connections are logged
};

// The whole table for `options.node`. Deterministic: equal inputs give equal tables.
nft::Table Compile(const Model& model, const CompileOptions& options);

namespace compiler_internal {
// What one direction of one policy contributes to the table.
struct PolicyOutput {
  nft::Chain chain;
  std::vector<nft::Set> sets;           // ".sel" first
  std::vector<nft::Element> isolated;   // this node's pods it selects
};
struct CachedOutput {
  Policy policy;
  PolicyOutput output;
};
}  // namespace compiler_internal

// Compile() for a model that changes a little at a time: every call returns exactly what
// Compile(model, options) returns, but reuses the output of each policy that the change
// (compared with the previous call's model) cannot have touched. A pod event recompiles only the
// policies that select the pod or name it as a peer; a namespace change recompiles all.
// Not thread-safe.
class Compiler {
 public:
  explicit Compiler(CompileOptions options);
  ~Compiler();

  nft::Table Compile(Model model);

 private:
  CompileOptions options_;
  std::optional<Model> previous_;
  std::map<std::string, compiler_internal::CachedOutput> ingress_;  // by policy key
  std::map<std::string, compiler_internal::CachedOutput> egress_;
};

// The chain names of a policy's ingress and egress rules ("in.x.allow-web"); long names are
// shortened with a hash so that every derived name fits nftables' limit.
std::string IngressChainName(const Policy& policy);
std::string EgressChainName(const Policy& policy);

}  // namespace weave::npc
