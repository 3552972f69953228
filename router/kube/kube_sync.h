// The router's Kubernetes loop: follows the Nodes (their addresses become the mesh's targets
// when KUBE_PEERS is empty), keeps this peer in the `weave-net` ConfigMap's peer list, reclaims
// the address space of peers whose Node was deleted (exactly one live peer does, see peers.h),
// and marks this Node's network available once the router is ready.
//
// Threading: Start runs the Node reflector on its own thread; the handlers and the reclaim run
// there. SetNetworkAvailable may be called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/kube/client.h"
#include "common/kube/reflector.h"
#include "common/peer_name.h"

namespace weave::router {

// Whether the cluster removed this peer: the ConfigMap lists peers, but not this one (another
// peer reclaimed its address space after its Node was deleted). A node that comes back after
// that must start as a new peer rather than bring its old ownership back.
absl::StatusOr<bool> PeerRemovedFromCluster(kube::Client& client, PeerName self);

struct KubeSyncHooks {
  // The Nodes' addresses changed (only when peers come from the Nodes).
  std::function<void(const std::vector<std::string>& addresses)> set_peers;
  // Take over a removed peer's address space (`weave rmpeer`); the count of addresses.
  std::function<absl::StatusOr<uint64_t>(const std::string& peer)> remove_peer;
};

class KubeSync : public kube::EventHandler {
 public:
  // `client` must outlive this object.
  KubeSync(kube::Client* client, std::string node_name, PeerName self, bool peers_from_nodes,
           KubeSyncHooks hooks);
  ~KubeSync() override;

  // Lists this peer for its Node in the ConfigMap, creating the ConfigMap if needed.
  absl::Status Register();
  void Start();
  void Stop();  // Idempotent.

  // NetworkUnavailable=False on this Node.
  absl::Status SetNetworkAvailable();

  // One reclaim pass over the peers the ConfigMap lists for Nodes that are gone.
  void ReclaimRemovedPeers();

 private:
  void OnAdd(const kube::Json&) override { NodesChanged(); }
  void OnUpdate(const kube::Json&, const kube::Json&) override { NodesChanged(); }
  void OnDelete(const kube::Json&) override;
  void OnSynced() override;
  void NodesChanged();
  absl::Status Reclaim(const std::string& candidate);

  kube::Client* const client_;
  const std::string node_name_;
  const PeerName self_;
  const bool peers_from_nodes_;
  const KubeSyncHooks hooks_;
  std::unique_ptr<kube::Reflector> nodes_;
  std::vector<std::string> last_addresses_;
};

}  // namespace weave::router
