#include "router/ipam_channel.h"

#include "common/status_macros.h"

namespace weave::router {

void IpamChannel::Broadcast(const std::string& payload) {
  if (mesh::Mesh* mesh = mesh_.load()) mesh->Broadcast(kIpamChannel, payload);
}

absl::Status IpamChannel::Unicast(PeerName to, const std::string& payload) {
  mesh::Mesh* mesh = mesh_.load();
  if (mesh == nullptr) return absl::UnavailableError("the mesh is not running yet");
  return mesh->Unicast(kIpamChannel, to, payload);
}

std::set<PeerName> IpamChannel::Reachable() {
  mesh::Mesh* mesh = mesh_.load();
  return mesh == nullptr ? std::set<PeerName>{self_} : mesh->ReachablePeers();
}

// Gossip is the full state of a neighbour; changes travel as broadcasts, so nothing is
// forwarded from here.
absl::StatusOr<std::string> IpamChannel::OnGossip(PeerName sender, absl::string_view payload) {
  ipam::RingAllocator* allocator = allocator_.load();
  if (allocator == nullptr) return std::string();
  RETURN_IF_ERROR(allocator->OnGossip(sender, payload));
  return std::string();
}

absl::Status IpamChannel::OnBroadcast(PeerName source, absl::string_view payload) {
  ipam::RingAllocator* allocator = allocator_.load();
  return allocator == nullptr ? absl::OkStatus() : allocator->OnBroadcast(source, payload);
}

absl::Status IpamChannel::OnUnicast(PeerName source, absl::string_view payload) {
  ipam::RingAllocator* allocator = allocator_.load();
  return allocator == nullptr ? absl::OkStatus() : allocator->OnUnicast(source, payload);
}

std::string IpamChannel::FullState() {
  ipam::RingAllocator* allocator = allocator_.load();
  return allocator == nullptr ? std::string() : allocator->FullState();
}

}  // namespace weave::router
