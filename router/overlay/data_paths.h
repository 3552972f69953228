// The data paths on this node: the VXLAN device with its heartbeats (fastdp) and the sleeve, as
// the Overlay drives them. Start creates or adopts the devices and ports on the bridge, so a
// restarted router finds the VXLAN device (and the pods' traffic in it) as it was.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/netlink/netlink.h"
#include "router/overlay/fastdp.h"
#include "router/overlay/overlay.h"
#include "router/overlay/sleeve.h"

namespace weave::overlay {

struct DataPathsConfig {
  PeerName self;
  std::string bridge = "weave";
  bool fastdp = true;  // false: no VXLAN device (one left by an earlier run is deleted)
  std::string vxlan_device = "vxlan-6784";
  uint16_t vxlan_port = 6784;
  std::string sleeve_device = "vethwe-sleeve";
  std::string bind_host = "0.0.0.0";
  uint16_t sleeve_port = 6783;
  int mtu = 1376;
};

// The VXLAN device as a port of the bridge: created when absent, kept when it has our settings
// (a restart), replaced when it has others; isolated from the sleeve port (frames from one
// overlay never go back out by the other), up.
absl::Status EnsureVxlanPort(netlink::Netlink& netlink, const DataPathsConfig& config);

class LinuxDataPaths final : public DataPaths {
 public:
  // Sets up the devices in the calling thread's namespace and starts the receive threads, which
  // feed `overlay` (which must outlive this object).
  static absl::StatusOr<std::unique_ptr<LinuxDataPaths>> Start(const DataPathsConfig& config,
                                                               netlink::Netlink& netlink,
                                                               Overlay* overlay);
  ~LinuxDataPaths() override;
  void Stop();  // Idempotent.

  bool has_fastdp() const override { return fastdp_ != nullptr; }
  absl::Status SendFastdpHeartbeat(PeerName to, net::Ipv4 ip, uint64_t seq) override;
  absl::Status SendSleeveHeartbeat(PeerName to, uint64_t seq) override;
  void SetSleeveTargets(std::vector<SleeveTarget> targets) override;
  void ForgetSleevePeer(PeerName peer) override;
  SleeveCounters Counters() const override;

 private:
  LinuxDataPaths() = default;

  std::unique_ptr<FastdpHeartbeats> fastdp_;
  std::unique_ptr<Sleeve> sleeve_;
};

}  // namespace weave::overlay
