// After a policy change, the conntrack entries of flows the new table would refuse are deleted:
// the table accepts `ct state established,related` first, so without this a connection that a
// new policy denies would keep passing (weave#2618).
//
// Which flows: each entry's original direction is judged as a new connection by the independent
// evaluator (npc/conformance/evaluator.h) reading the applied table's text, on the forward hook,
// exactly as the kernel would judge its first packet now. Left alone: flows from or to an address
// of the node itself (the node's traffic to its pods and theirs to it never pass the forward hook:
// always allowed), and protocols without ports other than ICMP.
// Not covered: a connection DNAT'd on this node (a NodePort) is recorded with the node's address
// as its original destination, so it is left alone; its pod's ingress policy still judges every
// new connection.
#pragma once

#include <functional>
#include <memory>
#include <set>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/netlink/conntrack.h"
#include "common/nft/ruleset.h"
#include "npc/conformance/evaluator.h"

namespace weave::npc {

class FlowSweeper {
 public:
  virtual ~FlowSweeper() = default;
  // Deletes the entries `table` (as applied) refuses; returns how many.
  virtual absl::StatusOr<int> Sweep(const nft::Table& table) = 0;
};

// Whether `flow` is one the rules in `ruleset` would now refuse (and so should be forgotten).
bool Doomed(const netlink::conntrack::Flow& flow, const conformance::Ruleset& ruleset,
            const std::set<uint32_t>& node_addresses);

// The node's own IPv4 addresses (getifaddrs), host order.
std::set<uint32_t> NodeAddresses();

// How long to wait after a sweep that took `took` before starting the next one: sweeps read the
// whole table back (tens of milliseconds with a large one), and under steady pod churn one would
// follow another without pause. This keeps them to a fifth of a core at most; the first sweep
// after a quiet spell starts at once.
absl::Duration SweepPause(absl::Duration took);

class ConntrackSweeper : public FlowSweeper {
 public:
  // `addresses` is called at every sweep (addresses change); null: NodeAddresses.
  explicit ConntrackSweeper(std::unique_ptr<netlink::conntrack::Conntrack> conntrack,
                            std::function<std::set<uint32_t>()> addresses = nullptr);
  absl::StatusOr<int> Sweep(const nft::Table& table) override;

 private:
  std::unique_ptr<netlink::conntrack::Conntrack> conntrack_;
  std::function<std::set<uint32_t>()> addresses_;
};

}  // namespace weave::npc
