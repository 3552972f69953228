// The router's view of Kubernetes, as values: which addresses the Nodes have (the mesh's targets
// when KUBE_PEERS is empty), the peer list the `weave-net` ConfigMap in kube-system keeps
// (annotation kube-peers.weave.works/peers, the original's format, so an upgraded cluster keeps
// its list), the reclaim protocol for the address space of deleted nodes, and the Node's
// NetworkUnavailable condition. Pure: every function takes and returns JSON values; kube_sync.h
// does the requests.
//
// Reclaim, exactly once: a peer listed for a node that no longer exists (or an old peer listed
// for our own node) is a candidate. A live peer first takes the candidate's lock annotation
// (kube-peers.weave.works/<candidate>, value: its own peer name) in one optimistic-concurrency
// update, so that of two peers racing only one holds it; a lock whose holder is no longer listed
// may be taken over. The holder then takes the candidate's ring ranges (rmpeer) and, in a second
// update, removes the candidate from the list and drops the lock.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/kube/object.h"
#include "common/peer_name.h"

namespace weave::router {

inline constexpr char kConfigMapNamespace[] = "kube-system";
inline constexpr char kConfigMapName[] = "weave-net";
inline constexpr char kPeersAnnotation[] = "kube-peers.weave.works/peers";

// Each Node's IPv4 InternalIP (its ExternalIP when it has none), sorted, without duplicates.
std::vector<std::string> NodeAddresses(const std::vector<kube::Json>& nodes);

struct PeerEntry {
  std::string peer_name;  // "aa:bb:cc:dd:ee:ff"
  std::string node_name;
  friend bool operator==(const PeerEntry&, const PeerEntry&) = default;
};

// The ConfigMap's peer list; empty when it has none. InvalidArgument for an annotation that is
// not the expected JSON.
absl::StatusOr<std::vector<PeerEntry>> PeerList(const kube::Json& configmap);
// A new, empty `weave-net` ConfigMap.
kube::Json NewConfigMap();

// Mutations for optimistic-concurrency updates: each changes `configmap` in place and returns
// whether it changed anything (nothing changed: no write is needed).
// Lists `self` for `node` (replacing nothing else).
absl::StatusOr<bool> AddPeer(kube::Json& configmap, const PeerEntry& self);
// Takes the candidate's lock for `self` when it is free or held by a peer that is no longer
// listed. Nothing changes when the candidate is no longer listed, the lock is already ours, or
// it is another live peer's: check HoldsLock afterwards.
absl::StatusOr<bool> TakeLock(kube::Json& configmap, const std::string& candidate,
                              const std::string& self);
// Removes the candidate from the list and its lock.
absl::StatusOr<bool> RemovePeer(kube::Json& configmap, const std::string& candidate);
// Whether `self` holds the candidate's lock.
bool HoldsLock(const kube::Json& configmap, const std::string& candidate, const std::string& self);

// The peers to reclaim: listed for a node not in `node_names`, or listed for `self_node` under
// another peer name than `self` (this node's previous incarnation).
std::vector<std::string> ReclaimCandidates(const std::vector<PeerEntry>& peers,
                                           const std::vector<std::string>& node_names,
                                           const std::string& self, const std::string& self_node);

// Sets the Node's NetworkUnavailable condition to False (reason WeaveIsUp), as the original
// did, so that the scheduler places pods on it. Returns whether it changed.
bool MarkNetworkAvailable(kube::Json& node, absl::Time now);

}  // namespace weave::router
