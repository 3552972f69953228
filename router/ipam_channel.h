// Joins the distributed allocator to the mesh: the allocator's network is the mesh's
// "IPallocation" gossip channel, and the channel's messages go to the allocator. The mesh
// starts after the allocator exists, so the mesh is attached later; until then broadcasts are
// dropped (a new neighbour gets the full state when it connects) and only we are reachable.
#pragma once

#include <atomic>

#include "ipam/ring_allocator.h"
#include "router/mesh/mesh.h"

namespace weave::router {

inline constexpr char kIpamChannel[] = "IPallocation";

class IpamChannel final : public ipam::IpamNetwork, public mesh::GossipHandler {
 public:
  explicit IpamChannel(PeerName self) : self_(self) {}

  // Both must outlive this object; the allocator first, then the mesh once it runs.
  void set_allocator(ipam::RingAllocator* allocator) { allocator_.store(allocator); }
  void set_mesh(mesh::Mesh* mesh) { mesh_.store(mesh); }

  // ipam::IpamNetwork
  void Broadcast(const std::string& payload) override;
  absl::Status Unicast(PeerName to, const std::string& payload) override;
  std::set<PeerName> Reachable() override;

  // mesh::GossipHandler
  absl::StatusOr<std::string> OnGossip(PeerName sender, absl::string_view payload) override;
  absl::Status OnBroadcast(PeerName source, absl::string_view payload) override;
  absl::Status OnUnicast(PeerName source, absl::string_view payload) override;
  std::string FullState() override;

 private:
  const PeerName self_;
  std::atomic<ipam::RingAllocator*> allocator_{nullptr};
  std::atomic<mesh::Mesh*> mesh_{nullptr};
};

}  // namespace weave::router
