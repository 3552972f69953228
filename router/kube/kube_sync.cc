#include "router/kube/kube_sync.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/kube/errors.h"
#include "router/kube/peers.h"
#include "spdlog/spdlog.h"

namespace weave::router {
namespace {

const std::string kConfigMapPath =
    absl::StrCat("/api/v1/namespaces/", kConfigMapNamespace, "/configmaps/", kConfigMapName);
const std::string kConfigMapsPath =
    absl::StrCat("/api/v1/namespaces/", kConfigMapNamespace, "/configmaps");

// Adapts a StatusOr<bool> mutation to Client::Update's: "no change" leaves the object alone.
std::function<absl::Status(kube::Json&)> Mutation(
    std::function<absl::StatusOr<bool>(kube::Json&)> mutate) {
  return [mutate = std::move(mutate)](kube::Json& object) {
    return mutate(object).status();
  };
}

}  // namespace

absl::StatusOr<bool> PeerRemovedFromCluster(kube::Client& client, PeerName self) {
  absl::StatusOr<kube::Json> configmap = client.Get(kConfigMapPath);
  if (kube::IsApiNotFound(configmap.status())) return false;
  if (!configmap.ok()) return configmap.status();
  absl::StatusOr<std::vector<PeerEntry>> peers = PeerList(*configmap);
  if (!peers.ok()) return peers.status();
  if (peers->empty()) return false;
  for (const PeerEntry& peer : *peers) {
    if (peer.peer_name == self.ToString()) return false;
  }
  return true;
}

KubeSync::KubeSync(kube::Client* client, std::string node_name, PeerName self,
                   bool peers_from_nodes, KubeSyncHooks hooks)
    : client_(client),
      node_name_(std::move(node_name)),
      self_(self),
      peers_from_nodes_(peers_from_nodes),
      hooks_(std::move(hooks)) {}

KubeSync::~KubeSync() { Stop(); }

absl::Status KubeSync::Register() {
  const PeerEntry self{self_.ToString(), node_name_};
  absl::StatusOr<kube::Json> updated =
      client_->Update(kConfigMapPath, Mutation([&](kube::Json& cm) { return AddPeer(cm, self); }));
  if (kube::IsApiNotFound(updated.status())) {
    kube::Json configmap = NewConfigMap();
    if (absl::StatusOr<bool> added = AddPeer(configmap, self); !added.ok()) return added.status();
    absl::StatusOr<kube::Json> created = client_->Create(kConfigMapsPath, configmap);
    if (kube::IsApiAlreadyExists(created.status())) return Register();  // raced: update it
    return created.status();
  }
  return updated.status();
}

void KubeSync::Start() {
  nodes_ = std::make_unique<kube::Reflector>(client_, "/api/v1/nodes", this);
  nodes_->Start();
}

void KubeSync::Stop() {
  if (nodes_) nodes_->Stop();
}

absl::Status KubeSync::SetNetworkAvailable() {
  return client_
      ->Update(absl::StrCat("/api/v1/nodes/", node_name_, "/status"),
               [](kube::Json& node) {
                 MarkNetworkAvailable(node, absl::Now());
                 return absl::OkStatus();
               })
      .status();
}

void KubeSync::NodesChanged() {
  if (!peers_from_nodes_ || !nodes_ || !nodes_->synced()) return;
  std::vector<std::string> addresses = NodeAddresses(nodes_->List());
  if (addresses == last_addresses_) return;
  last_addresses_ = addresses;
  if (hooks_.set_peers) hooks_.set_peers(addresses);
}

void KubeSync::OnSynced() {
  NodesChanged();
  ReclaimRemovedPeers();
}

void KubeSync::OnDelete(const kube::Json& node) {
  NodesChanged();
  ReclaimRemovedPeers();
}

void KubeSync::ReclaimRemovedPeers() {
  if (!nodes_) return;
  absl::StatusOr<kube::Json> configmap = client_->Get(kConfigMapPath);
  if (!configmap.ok()) {
    spdlog::warn("Reclaim: {}", std::string(configmap.status().message()));
    return;
  }
  absl::StatusOr<std::vector<PeerEntry>> peers = PeerList(*configmap);
  if (!peers.ok()) {
    spdlog::warn("Reclaim: {}", std::string(peers.status().message()));
    return;
  }
  std::vector<std::string> node_names;
  for (const kube::Json& node : nodes_->List()) {
    if (auto metadata = node.find("metadata"); metadata != node.end() && metadata->is_object()) {
      node_names.push_back(metadata->value("name", ""));
    }
  }
  for (const std::string& candidate :
       ReclaimCandidates(*peers, node_names, self_.ToString(), node_name_)) {
    if (absl::Status reclaimed = Reclaim(candidate); !reclaimed.ok()) {
      spdlog::warn("Reclaiming the address space of removed peer {}: {}", candidate,
                   std::string(reclaimed.message()));
    }
  }
}

absl::Status KubeSync::Reclaim(const std::string& candidate) {
  const std::string self = self_.ToString();
  absl::StatusOr<kube::Json> locked = client_->Update(
      kConfigMapPath, Mutation([&](kube::Json& cm) { return TakeLock(cm, candidate, self); }));
  if (!locked.ok()) return locked.status();
  if (!HoldsLock(*locked, candidate, self)) return absl::OkStatus();  // another peer's job
  if (hooks_.remove_peer) {
    absl::StatusOr<uint64_t> taken = hooks_.remove_peer(candidate);
    if (!taken.ok() && !absl::IsNotFound(taken.status())) return taken.status();
    spdlog::info("Reclaimed {} address(es) of peer {}, whose node is gone", taken.value_or(0),
                 candidate);
  }
  return client_
      ->Update(kConfigMapPath,
               Mutation([&](kube::Json& cm) { return RemovePeer(cm, candidate); }))
      .status();
}

}  // namespace weave::router
