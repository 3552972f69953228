#include "router/overlay/data_paths.h"

#include <arpa/inet.h>

#include "absl/strings/str_cat.h"
#include "common/netlink/errors.h"
#include "common/status_macros.h"
#include "spdlog/spdlog.h"

namespace weave::overlay {

absl::Status EnsureVxlanPort(netlink::Netlink& netlink, const DataPathsConfig& config) {
  const netlink::VxlanSpec want{config.vxlan_device, kVxlanVni, config.vxlan_port, config.mtu,
                                true};
  absl::StatusOr<netlink::VxlanSpec> have = netlink.GetVxlan(config.vxlan_device);
  if (have.ok() && *have != want) {
    spdlog::info("Replacing {}: its settings are not ours", config.vxlan_device);
    RETURN_IF_ERROR(netlink.DeleteLink(config.vxlan_device));
  } else if (!have.ok() && !absl::IsNotFound(have.status())) {
    // Some other kind of link has our name: it is not ours to delete.
    return netlink::Annotate(have.status(), "checking the VXLAN device");
  }
  if (!have.ok() || *have != want) RETURN_IF_ERROR(netlink.CreateVxlan(want));
  RETURN_IF_ERROR(netlink.SetMaster(config.vxlan_device, config.bridge));
  RETURN_IF_ERROR(netlink.SetIsolated(config.vxlan_device, true));
  return netlink.SetUp(config.vxlan_device, true);
}

absl::StatusOr<std::unique_ptr<LinuxDataPaths>> LinuxDataPaths::Start(const DataPathsConfig& config,
                                                                      netlink::Netlink& netlink,
                                                                      Overlay* overlay) {
  std::unique_ptr<LinuxDataPaths> paths(new LinuxDataPaths());
  if (config.fastdp) {
    RETURN_IF_ERROR(EnsureVxlanPort(netlink, config));
    ASSIGN_OR_RETURN(netlink::LinkInfo vxlan, netlink.GetLink(config.vxlan_device));
    ASSIGN_OR_RETURN(paths->fastdp_,
                     FastdpHeartbeats::Start(config.self, kVxlanVni, config.vxlan_port, vxlan.index,
                                             14 + static_cast<size_t>(config.mtu),
                                             [overlay](const FastdpHeartbeat& heartbeat) {
                                               overlay->OnFastdpHeartbeat(
                                                   heartbeat.sender, heartbeat.seq, absl::Now());
                                             }));
  } else {
    absl::Status deleted = netlink.DeleteLink(config.vxlan_device);
    if (deleted.ok()) spdlog::info("Deleted {}: fastdp is disabled", config.vxlan_device);
  }

  SleeveConfig sleeve;
  sleeve.self = config.self;
  sleeve.bind_host = config.bind_host;
  sleeve.port = config.sleeve_port;
  sleeve.tap_name = config.sleeve_device;
  ASSIGN_OR_RETURN(paths->sleeve_, Sleeve::Start(sleeve, [overlay](PeerName from, uint64_t seq) {
                     overlay->OnSleeveHeartbeat(from, seq, absl::Now());
                   }));
  RETURN_IF_ERROR(netlink.SetMtu(config.sleeve_device, config.mtu));
  RETURN_IF_ERROR(netlink.SetMaster(config.sleeve_device, config.bridge));
  RETURN_IF_ERROR(netlink.SetIsolated(config.sleeve_device, true));
  RETURN_IF_ERROR(netlink.SetUp(config.sleeve_device, true));
  return paths;
}

LinuxDataPaths::~LinuxDataPaths() { Stop(); }

void LinuxDataPaths::Stop() {
  if (fastdp_) fastdp_->Stop();
  if (sleeve_) sleeve_->Stop();
}

absl::Status LinuxDataPaths::SendFastdpHeartbeat(PeerName to, net::Ipv4 ip, uint64_t seq) {
  if (!fastdp_) return absl::FailedPreconditionError("fastdp is disabled");
  return fastdp_->Send(to, ip, seq);
}

absl::Status LinuxDataPaths::SendSleeveHeartbeat(PeerName to, uint64_t seq) {
  return sleeve_->SendHeartbeat(to, seq);
}

void LinuxDataPaths::SetSleeveTargets(std::vector<SleeveTarget> targets) {
  std::vector<SleevePeer> peers;
  for (const SleeveTarget& target : targets) {
    SleevePeer peer;
    peer.name = target.name;
    peer.address.sin_family = AF_INET;
    peer.address.sin_port = htons(target.port);
    peer.address.sin_addr.s_addr = htonl(target.ip.value());
    peer.forward = target.forward;
    peer.key = target.key;
    peer.via = target.via;
    peers.push_back(peer);
  }
  sleeve_->SetPeers(std::move(peers));
}

void LinuxDataPaths::ForgetSleevePeer(PeerName peer) { sleeve_->ForgetPeer(peer); }

}  // namespace weave::overlay

namespace weave::overlay {

SleeveCounters LinuxDataPaths::Counters() const {
  const SleeveStats stats = sleeve_->Stats();
  SleeveCounters counters;
  counters.tx_frames = stats.tx_frames;
  counters.tx_bytes = stats.tx_bytes;
  counters.rx_frames = stats.rx_frames;
  counters.rx_bytes = stats.rx_bytes;
  counters.dropped = stats.dropped_bad + stats.dropped_unknown_peer +
                     stats.dropped_wrong_address + stats.dropped_unauthenticated + stats.dropped_replayed +
                     stats.dropped_oversize + stats.dropped_relay;
  counters.relayed = stats.relayed_frames;
  return counters;
}

}  // namespace weave::overlay
