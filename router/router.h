// The router's node-wide state, from which status, metrics and readiness are read.
// It holds identity, configuration, readiness, the mesh and the allocator; the overlay
// attaches here as it is built. Thread-safe: Status() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/peer_name.h"
#include "ipam/ring_allocator.h"
#include "router/config.h"
#include "router/mesh/mesh.h"
#include "router/npc_status.h"
#include "router/overlay/overlay.h"
#include "router/readiness.h"
#include "weave/router.pb.h"

namespace weave::router {

// Protocol versions this router speaks, shown as "Protocol: weave 1..2".
inline constexpr uint32_t kProtocolMinVersion = 1;
inline constexpr uint32_t kProtocolMaxVersion = 2;

// Readiness conditions: "api" holds once the gRPC socket serves, "network" once the bridge
// exists with its address and earlier pods are restored.
inline constexpr char kReadyApi[] = "api";
inline constexpr char kReadyNetwork[] = "network";

class Router {
 public:
  // `allocator` may be null (no address manager yet); it must outlive the router.
  Router(RouterConfig config, PeerName name, uint64_t uid, ipam::RingAllocator* allocator);

  const RouterConfig& config() const { return config_; }
  PeerName name() const { return name_; }
  Readiness& readiness() { return readiness_; }

  // The mesh once it runs (null before, and in tests without one); must outlive the router.
  void set_mesh(mesh::Mesh* mesh) { mesh_.store(mesh); }
  mesh::Mesh* mesh() const { return mesh_.load(); }
  ipam::RingAllocator* allocator() const { return allocator_; }
  // The overlay once it runs; must outlive the router (or be unset first).
  void set_overlay(const overlay::Overlay* overlay) { overlay_.store(overlay); }
  // The version check, when the operator configured one; must outlive the router.
  void set_version_checker(const class VersionChecker* checker) { version_checker_ = checker; }
  // What weave-npc reports, and the policy gate; must outlive the router (or be unset first).
  void set_npc(NpcStatus* npc) { npc_.store(npc); }
  NpcStatus* npc() const { return npc_.load(); }

  // A consistent snapshot of everything `weave status` and `weave report` show.
  v1::Status Status() const;

 private:
  const RouterConfig config_;
  const PeerName name_;
  const uint64_t uid_;
  ipam::RingAllocator* const allocator_;
  Readiness readiness_;
  std::atomic<mesh::Mesh*> mesh_{nullptr};
  std::atomic<const overlay::Overlay*> overlay_{nullptr};
  const VersionChecker* version_checker_ = nullptr;
  std::atomic<NpcStatus*> npc_{nullptr};
};

}  // namespace weave::router
