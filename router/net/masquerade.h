// The router's own nftables table, `inet weave` (the design's data-plane section):
//   - pod -> pod: untouched;
//   - pod -> outside: masqueraded (fully random ports, avoiding the conntrack race of
//     weave#3287), except multicast;
//   - outside -> pod (a NodePort DNAT'd here, host -> pod): masqueraded so that replies come
//     back the same way, except to local pods when NO_MASQ_LOCAL is on, which keeps the
//     client's address for externalTrafficPolicy: Local. Local pods are a set, updated as pods
//     attach and detach;
//   - the policy gate (EXPECT_NPC=1, the design's lifecycle section): until weave-npc's first
//     full sync, new connections to local pods are dropped, so that no pod is reachable before
//     its policies are enforced. Set npc-ready is empty while the gate is closed and holds
//     0.0.0.0/0 once it is open:
//       chain forward { type filter hook forward priority filter; policy accept;
//         ip daddr != @npc-ready ip daddr @local-pods ct state new
//           log prefix "weave-gate: " group 86 drop }
//     Only the forward hook: bridged pod traffic reaches it through br_netfilter, and the node's
//     own traffic to its pods (kubelet probes) never passes it. Connections that exist already
//     (ct state established, related) are not new and pass. Pods' traffic to anything but a local
//     pod passes; traffic between two local pods is gated by its destination.
//     Opening adds the element; nothing removes it: the gate never closes again for the life of
//     the node's tables (Install keeps the state it finds in the kernel, so a router restart
//     does not close it, and weave-npc's restarts do not either: its own table persists).
//   - the per-pod gate (EXPECT_NPC=1): a pod that attaches waits in set npc-pending until
//     weave-npc reports that its policies are in the kernel (weave-npc learns of the pod from
//     the router's endpoint stream, before the Kubernetes API has its address). Until then its
//     new connections, in and out, are dropped:
//         ip daddr @npc-pending ct state new log prefix "weave-gate: " group 86 drop
//         ip saddr @npc-pending ct state new log prefix "weave-gate: " group 86 drop
//     So a new pod is never reachable, nor reaches anything, before its policies apply: the
//     start-up gap the original had (rules followed the API's pod IP, seconds after the pod
//     ran). weave-npc clears a pod within milliseconds of its attach; a pod attached while
//     weave-npc is away waits for it (fail closed); pods that were running stay cleared.
// Accepts in this table do not stop other tables' chains, so this table never accepts: it only
// rewrites sources, and drops at the gate.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "common/net/ip.h"
#include "common/nft/backend.h"
#include "common/nft/ruleset.h"

namespace weave::router {

inline constexpr char kRouterTable[] = "weave";
inline constexpr char kLocalPodsSet[] = "local-pods";
inline constexpr char kNpcReadySet[] = "npc-ready";
inline constexpr char kNpcPendingSet[] = "npc-pending";
inline constexpr char kGateChain[] = "forward";
// The NFLOG group of the gate's drops: weave-npc's, which logs blocked connections.
inline constexpr uint16_t kGateLogGroup = 86;

struct RouterTableOptions {
  net::Cidr range;            // IPALLOC_RANGE
  bool no_masq_local = true;  // NO_MASQ_LOCAL
  bool expect_npc = true;     // EXPECT_NPC: the policy gate exists
};

// The whole table as a value, for `local_pods` (addresses of pods attached on this node) and the
// gate's state: whether it is open, and the local pods whose policies weave-npc has not yet
// reported enforced (both ignored without EXPECT_NPC, when the table has no gate chain or sets).
nft::Table RouterTable(const RouterTableOptions& options, const std::vector<net::Ipv4>& local_pods,
                       bool gate_open, const std::vector<net::Ipv4>& pending = {});

// Whether `table` (as dumped) holds an open gate: set npc-ready exists and is not empty.
bool GateOpenIn(const nft::Table& table);

// The addresses in set npc-pending of `table` (as dumped); empty when it has no such set.
std::vector<net::Ipv4> PendingIn(const nft::Table& table);

// Told about pod addresses as they come and go on this node.
class PodAddressObserver {
 public:
  virtual ~PodAddressObserver() = default;
  virtual absl::Status PodAttached(net::Ipv4 address) = 0;
  virtual absl::Status PodDetached(net::Ipv4 address) = 0;
};

// The policy gate, as the API that weave-npc reports to sees it.
class PolicyGate {
 public:
  virtual ~PolicyGate() = default;
  // Opens the gate for good. Idempotent; an error leaves it as it was (a later call retries).
  virtual absl::Status OpenGate() = 0;
  // Whether new connections to local pods pass the gate (always, without EXPECT_NPC).
  virtual bool gate_open() const = 0;
  // weave-npc has the policies of the pods at `addresses` in the kernel: the pending ones among
  // them pass from now on. Addresses that are not pending are ignored. Idempotent; an error
  // leaves them pending (weave-npc's next report retries).
  virtual absl::Status PodsEnforced(const std::vector<net::Ipv4>& addresses) = 0;
  // How many local pods wait for weave-npc (0 without EXPECT_NPC).
  virtual int pending_pods() const = 0;
};

// Keeps RouterTable in the kernel. Thread-safe.
class Masquerade : public PodAddressObserver, public PolicyGate {
 public:
  Masquerade(nft::Backend* backend, RouterTableOptions options);

  // Replaces the table atomically (no packet sees a half table; an existing table from an
  // earlier run is replaced in the same transaction). The gate keeps its state: with EXPECT_NPC
  // the current table is read first (an error reading it fails Install and changes nothing), an
  // open gate stays open and pending pods stay pending. Without a table to go by (a fresh node)
  // every local pod starts pending; a table from before the per-pod gate has none pending.
  absl::Status Install(const std::vector<net::Ipv4>& local_pods);
  // Deletes the table (`weave reset`); a missing table is fine.
  absl::Status Remove();

  // A new local pod joins local-pods and, with EXPECT_NPC, npc-pending (one transaction). An
  // address that is already a local pod (a repeated ADD) changes nothing.
  absl::Status PodAttached(net::Ipv4 address) override;
  // Leaves both sets; an address that is not there (a repeated DEL) is fine.
  absl::Status PodDetached(net::Ipv4 address) override;

  // One AddElements of 0.0.0.0/0 to npc-ready. Before Install, only remembered: Install then
  // creates the table open. Without EXPECT_NPC there is no gate and this does nothing.
  absl::Status OpenGate() override;
  bool gate_open() const override;
  // One DeleteElements from npc-pending of the pending ones among `addresses`.
  absl::Status PodsEnforced(const std::vector<net::Ipv4>& addresses) override;
  int pending_pods() const override;

 private:
  nft::Backend* const backend_;
  const RouterTableOptions options_;
  mutable std::mutex mu_;
  bool installed_ = false;               // guarded by mu_
  std::atomic<bool> gate_open_ = false;  // written under mu_
  std::set<net::Ipv4> local_;            // guarded by mu_; as in set local-pods once installed
  std::set<net::Ipv4> pending_;          // guarded by mu_; as in set npc-pending
};

}  // namespace weave::router
