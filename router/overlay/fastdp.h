// fastdp: pod traffic between nodes in the kernel's VXLAN (UDP 6784), with no user-space copy.
// The VXLAN device is a port of the `weave` bridge; the overlay (overlay.h) programs which peers
// it floods to. This file holds what proves a link's VXLAN path works: heartbeats.
//
// A heartbeat is a full-size Ethernet frame (14 bytes + the pods' MTU, so it also proves that
// full-size packets fit the path) sent from a UDP socket straight to the peer's VXLAN port, with
// the VXLAN header the peer's device expects. The peer's kernel decapsulates it as it would pod
// traffic; the peer reads it off its VXLAN device with a packet socket and acknowledges it over
// the mesh connection. Its destination MAC is the peer's bridge (its peer name), so the peer's
// bridge passes it to the host stack, which drops the unknown ethertype: no pod ever sees it.
// Its source MAC is a per-peer address that nothing else uses (HeartbeatMac), so the MACs the
// peer's bridge and VXLAN device learn from it never attract pod traffic.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/net/ip.h"
#include "common/netlink/types.h"
#include "common/peer_name.h"
#include "router/mesh/socket.h"

namespace weave::overlay {

// One VXLAN network for the whole cluster: the bridge decides where frames go.
inline constexpr uint32_t kVxlanVni = 0x5eaf;
// IEEE 802 local experimental ethertype 1.
inline constexpr uint16_t kHeartbeatEthertype = 0x88b5;

// A peer's bridge MAC: its name (EnsureBridge sets it).
netlink::MacAddress NameMac(PeerName name);
// The source MAC of this peer's heartbeats: unicast, locally administered, never a bridge's.
netlink::MacAddress HeartbeatMac(PeerName name);

struct FastdpHeartbeat {
  PeerName sender;
  uint64_t seq = 0;
};

// The UDP payload of a heartbeat from `sender` to `receiver`: the 8-byte VXLAN header for `vni`
// and an inner frame of `frame_size` bytes (at least 60).
std::string EncodeFastdpHeartbeat(uint32_t vni, PeerName sender, PeerName receiver, uint64_t seq,
                                  size_t frame_size);
// The heartbeat in an inner Ethernet frame as a packet socket delivers it. InvalidArgument for
// anything else: another ethertype, a bad magic or version, a frame shorter than it says (a
// path that truncates is not a working path).
absl::StatusOr<FastdpHeartbeat> DecodeFastdpHeartbeatFrame(absl::Span<const uint8_t> frame);

// Sends heartbeats and receives the peers' ones. Threading: Send from any one thread; the
// handler runs on the receive thread.
class FastdpHeartbeats {
 public:
  using Handler = std::function<void(const FastdpHeartbeat&)>;

  // Opens the sending socket and a packet socket on the VXLAN device `vxlan_ifindex` (in the
  // calling thread's namespace) and starts the receive thread. `frame_size` is 14 + pod MTU.
  static absl::StatusOr<std::unique_ptr<FastdpHeartbeats>> Start(PeerName self, uint32_t vni,
                                                                 uint16_t vxlan_port,
                                                                 int vxlan_ifindex,
                                                                 size_t frame_size,
                                                                 Handler handler);
  ~FastdpHeartbeats();
  void Stop();  // Joins the receive thread. Idempotent.

  // One heartbeat to `to` at `ip`. FailedPrecondition when the path's MTU is too small for it
  // (EMSGSIZE: the frame would need fragmenting, which VXLAN must not).
  absl::Status Send(PeerName to, net::Ipv4 ip, uint64_t seq);

  uint64_t received() const { return received_.load(); }
  uint64_t rejected() const { return rejected_.load(); }

 private:
  FastdpHeartbeats(PeerName self, uint32_t vni, uint16_t vxlan_port, size_t frame_size,
                   mesh::Fd sender, mesh::Fd receiver, mesh::Fd wake, Handler handler);
  void ReceiveLoop();

  const PeerName self_;
  const uint32_t vni_;
  const uint16_t vxlan_port_;
  const size_t frame_size_;
  mesh::Fd sender_;
  mesh::Fd receiver_;
  mesh::Fd wake_;  // eventfd: Stop wakes the receive thread
  const Handler handler_;
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> rejected_{0};
  std::thread thread_;
};

}  // namespace weave::overlay
