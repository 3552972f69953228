// The overlay: carries pod frames between this node's bridge and its peers', choosing per
// connected peer between the kernel's VXLAN (fastdp, fastdp.h) and the user-space sleeve
// (sleeve.h), with the decision logic in overlay_switch.h.
//
// What it does to the kernel (through the netlink adapter):
//   - fastdp peers: one all-zero-MAC entry per peer in the VXLAN device's table, so that
//     broadcast and unknown unicast reach every fastdp peer; unicast entries are learned by the
//     device from what arrives. A peer leaving fastdp loses its entries, learned ones too.
//   - a mode change forgets what the bridge learned on the VXLAN and sleeve ports, so that the
//     next frames flood and the bridge learns the new paths.
//   - a router restart must not break pods' connections: VXLAN entries found at start are kept
//     for `grace`, as are a fastdp peer's entries after its connection drops (its router may be
//     restarting); they go when the grace ends without the peer being back on fastdp.
//
// Control messages (acknowledgements, switch notices) travel on the mesh channel "overlay".
//
// Threading: thread-safe. Tick runs on one thread (the router's overlay loop); heartbeat
// handlers on the data paths' receive threads; OnUnicast on mesh connection threads. The lock is
// never held while calling the mesh, the data paths or the kernel... except the netlink calls of
// Tick, which only Tick makes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/crypto/box.h"
#include "common/net/ip.h"
#include "common/netlink/netlink.h"
#include "common/peer_name.h"
#include "router/mesh/mesh.h"
#include "router/overlay/overlay_switch.h"

namespace weave::overlay {

inline constexpr char kOverlayChannel[] = "overlay";

struct OverlayConfig {
  PeerName self;
  std::string bridge = "weave";
  std::string vxlan_device = "vxlan-6784";
  std::string sleeve_device = "vethwe-sleeve";
  int mtu = 1376;
  bool no_fastdp = false;
  SwitchOptions switching;
  // How long VXLAN entries outlive a fastdp peer's connection (and entries found at start).
  absl::Duration grace = absl::Seconds(60);
};

// What the overlay needs from the mesh (the real Mesh in production, a fake in unit tests).
class OverlayMesh {
 public:
  virtual ~OverlayMesh() = default;
  virtual std::vector<mesh::Neighbour> Neighbours() const = 0;
  // Next hops to every reachable peer (for peers without a direct connection: relaying).
  virtual std::map<PeerName, PeerName> NextHops() const = 0;
  // Unicast on the "overlay" channel; failures are the mesh's to log.
  virtual void Send(PeerName to, const std::string& payload) = 0;
};

// OverlayMesh over the real mesh, which must outlive it.
class MeshAdapter final : public OverlayMesh {
 public:
  explicit MeshAdapter(mesh::Mesh* mesh) : mesh_(mesh) {}
  std::vector<mesh::Neighbour> Neighbours() const override { return mesh_->Neighbours(); }
  std::map<PeerName, PeerName> NextHops() const override {
    return mesh_->CurrentRoutes().unicast;
  }
  void Send(PeerName to, const std::string& payload) override;

 private:
  mesh::Mesh* const mesh_;
};

// A peer as the sleeve needs it: a neighbour (its address, and a key when its link is
// encrypted), or a peer without a direct connection, reached through neighbour `via`.
struct SleeveTarget {
  PeerName name;
  net::Ipv4 ip;
  uint16_t port = 0;
  bool forward = false;  // frames go to it (its link is on sleeve, or it is relayed)
  std::optional<crypto::Key32> key;
  PeerName via;  // PeerName() for a neighbour
  friend bool operator==(const SleeveTarget&, const SleeveTarget&) = default;
};

// What the sleeve carried since start.
struct SleeveCounters {
  uint64_t tx_frames = 0;
  uint64_t tx_bytes = 0;
  uint64_t rx_frames = 0;
  uint64_t rx_bytes = 0;
  uint64_t dropped = 0;  // malformed, unauthenticated, from unknown peers, or too big
  uint64_t relayed = 0;  // frames passed on for peers without a direct link
};

// The data paths' sending side (data_paths.h in production, a fake in unit tests).
class DataPaths {
 public:
  virtual ~DataPaths() = default;
  virtual bool has_fastdp() const = 0;
  virtual absl::Status SendFastdpHeartbeat(PeerName to, net::Ipv4 ip, uint64_t seq) = 0;
  virtual absl::Status SendSleeveHeartbeat(PeerName to, uint64_t seq) = 0;
  virtual void SetSleeveTargets(std::vector<SleeveTarget> targets) = 0;
  virtual void ForgetSleevePeer(PeerName peer) = 0;
  virtual SleeveCounters Counters() const = 0;
};

struct OverlayStats {
  bool fastdp = false;  // the node has its VXLAN device
  uint64_t fastdp_links = 0;
  uint64_t sleeve_links = 0;
  uint64_t fallbacks = 0;  // links that left fastdp for sleeve or nothing, since start
  SleeveCounters sleeve;
};

class Overlay : public mesh::GossipHandler {
 public:
  // `netlink` (for the VXLAN device's table and the bridge) must outlive the overlay; only Tick
  // uses it. `clock` times the control messages that arrive from the mesh.
  Overlay(OverlayConfig config, netlink::Netlink* netlink,
          std::function<absl::Time()> clock = absl::Now);

  // Adopts the VXLAN entries a previous run left (kept for `grace`). Call once the device exists.
  absl::Status Adopt(absl::Time now);
  // Both must outlive the overlay, or be detached with nullptr before they go.
  void Attach(OverlayMesh* mesh, DataPaths* paths);

  // Follows the mesh's connections, sends due heartbeats, decides, and applies decisions.
  // Call every few hundred milliseconds.
  void Tick(absl::Time now);

  // From the data paths' receive threads.
  void OnFastdpHeartbeat(PeerName from, uint64_t seq, absl::Time now);
  void OnSleeveHeartbeat(PeerName from, uint64_t seq, absl::Time now);

  // mesh::GossipHandler: only unicast is used.
  absl::StatusOr<std::string> OnGossip(PeerName, absl::string_view) override { return ""; }
  absl::Status OnBroadcast(PeerName, absl::string_view) override { return absl::OkStatus(); }
  absl::Status OnUnicast(PeerName source, absl::string_view payload) override;
  std::string FullState() override { return ""; }

  // For `weave status connections`: the overlay of the link to `peer` ("" while none works)
  // and its attributes. nullopt for a peer the overlay does not know.
  std::optional<mesh::OverlayLinkStatus> LinkStatus(PeerName peer) const;
  OverlayStats Stats() const;

 private:
  struct Link {
    explicit Link(LinkSwitch s) : decide(std::move(s)) {}
    LinkSwitch decide;
    net::Ipv4 ip;
    std::string nickname;
    uint16_t port = 0;
    uint64_t connection_uid = 0;
    uint64_t next_seq = 1;
    uint64_t first_seq = 1;  // acks below this belong to an earlier connection
    absl::Time next_heartbeat = absl::InfinitePast();
    std::string fastdp_send_error;
    std::optional<crypto::Key32> key;
  };
  struct Grace {
    net::Ipv4 ip;
    absl::Time until;
  };

  std::string FastdpRefusal(const mesh::Neighbour& neighbour) const;
  void Apply(const std::map<PeerName, Mode>& changed, absl::Time now);
  absl::Status RemoveVxlanPeer(net::Ipv4 ip);

  const OverlayConfig config_;
  netlink::Netlink* const netlink_;
  const std::function<absl::Time()> clock_;

  mutable std::mutex mu_;
  OverlayMesh* mesh_ = nullptr;
  DataPaths* paths_ = nullptr;
  std::map<PeerName, Link> links_;
  std::map<PeerName, Grace> graced_;        // fastdp peers without a link, by name
  std::map<uint32_t, absl::Time> adopted_;  // VXLAN entries found at start, by IP: until
  std::set<uint32_t> programmed_;           // IPs with our flood entry, as we last left it
  std::vector<SleeveTarget> sleeve_targets_;
  uint64_t fallbacks_ = 0;
};

}  // namespace weave::overlay
