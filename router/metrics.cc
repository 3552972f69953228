#include "router/metrics.h"

#include <map>
#include <tuple>

namespace weave::router {

std::vector<metrics::Family> RouterMetrics(const v1::Status& status) {
  using metrics::Family;
  using metrics::Type;
  const v1::RouterStatus& router = status.router();
  const v1::IpamStatus& ipam = status.ipam();

  // Every state appears, so that dashboards see zeros rather than gaps.
  std::map<std::tuple<std::string, std::string, std::string>, double> connections;
  for (const char* state : {"established", "pending", "retrying", "failed", "connecting"}) {
    connections[{state, "unknown", ""}] = 0;
  }
  for (const v1::Connection& c : router.connections()) {
    std::string type = c.overlay().empty() ? "unknown" : c.overlay();
    connections[{c.state(), type, c.encrypted() ? "yes" : ""}] += 1;
  }
  Family conn{"weave_connections", "Number of peer-to-peer connections.", Type::kGauge, {}};
  for (const auto& [key, value] : connections) {
    const auto& [state, type, encryption] = key;
    conn.samples.push_back({{{"state", state}, {"type", type}, {"encryption", encryption}}, value});
  }

  uint64_t unreachable_peers = 0;
  uint64_t unreachable_ips = 0;
  std::map<std::string, bool> owners;
  for (const v1::RingEntry& entry : ipam.entries()) {
    if (!entry.is_known_peer()) {
      unreachable_ips += entry.size();
      if (!owners[entry.peer()]) unreachable_peers++;
      owners[entry.peer()] = true;
    }
  }
  // What this peer owns of the ring, and how much of that it reported free.
  uint64_t owned = 0;
  uint64_t owned_free = 0;
  for (const v1::RingEntry& entry : ipam.entries()) {
    if (entry.peer() == router.name()) {
      owned += entry.size();
      owned_free += entry.free();
    }
  }
  double unreachable_percent =
      ipam.range_num_ips() == 0 ? 0 : 100.0 * unreachable_ips / ipam.range_num_ips();

  const v1::OverlayStatus& overlay = router.overlay();
  auto counter = [](const char* name, const char* help, uint64_t value) {
    return Family{name, help, Type::kCounter, {{{}, static_cast<double>(value)}}};
  };
  return {
      std::move(conn),
      {"weave_overlay_links", "Peer links by data path (fastdp: kernel VXLAN; sleeve: user space).",
       Type::kGauge,
       {{{{"type", "fastdp"}}, static_cast<double>(overlay.fastdp_links())},
        {{{"type", "sleeve"}}, static_cast<double>(overlay.sleeve_links())}}},
      counter("weave_fastdp_fallbacks_total", "Links that stopped using fastdp (each is logged).",
              overlay.fallbacks()),
      counter("weave_sleeve_tx_frames_total", "Frames sent by sleeve.", overlay.sleeve_tx_frames()),
      counter("weave_sleeve_tx_bytes_total", "Bytes of frames sent by sleeve.",
              overlay.sleeve_tx_bytes()),
      counter("weave_sleeve_rx_frames_total", "Frames received by sleeve.",
              overlay.sleeve_rx_frames()),
      counter("weave_sleeve_rx_bytes_total", "Bytes of frames received by sleeve.",
              overlay.sleeve_rx_bytes()),
      counter("weave_sleeve_relayed_total", "Frames sleeve passed on for peers without a direct link.",
              overlay.sleeve_relayed()),
      counter("weave_sleeve_dropped_total",
              "Datagrams sleeve dropped: malformed, from unknown peers, or too big.",
              overlay.sleeve_dropped()),
      {"weave_connection_terminations_total", "Number of connections terminated.",
       Type::kCounter, {{{}, static_cast<double>(router.termination_count())}}},
      {"weave_ips", "Number of IP addresses.", Type::kGauge,
       {{{{"state", "local-used"}}, static_cast<double>(ipam.active_ips())}}},
      {"weave_ipam_owned_ips", "Addresses of the range this peer owns.", Type::kGauge,
       {{{}, static_cast<double>(owned)}}},
      {"weave_ipam_free_ips", "Free addresses in the ranges this peer owns (as last reported).",
       Type::kGauge, {{{}, static_cast<double>(owned_free)}}},
      {"weave_max_ips", "Size of the IP range.", Type::kGauge,
       {{{}, static_cast<double>(ipam.range_num_ips())}}},
      {"weave_ipam_unreachable_count", "Number of unreachable peers owning part of the range.",
       Type::kGauge, {{{}, static_cast<double>(unreachable_peers)}}},
      {"weave_ipam_unreachable_percentage",
       "Percentage of the range owned by unreachable peers.", Type::kGauge,
       {{{}, unreachable_percent}}},
      {"weave_ipam_pending_allocates", "Number of pending allocations.", Type::kGauge,
       {{{}, static_cast<double>(ipam.pending_allocates_size())}}},
      {"weave_ipam_pending_claims", "Number of pending claims.", Type::kGauge,
       {{{}, static_cast<double>(ipam.pending_claims_size())}}},
      {"weave_ready", "1 when the router is ready (HTTP /status answers 200).", Type::kGauge,
       {{{}, status.ready() ? 1.0 : 0.0}}},
      {"weave_npc_gate_open",
       "1 when new connections to local pods pass the policy gate (weave-npc has synced, or "
       "EXPECT_NPC=0).",
       Type::kGauge, {{{}, status.npc_gate().open() ? 1.0 : 0.0}}},
      {"weave_npc_pending_pods",
       "Local pods whose new connections wait until weave-npc reports their policies enforced.",
       Type::kGauge, {{{}, static_cast<double>(status.npc_gate().pending_pods())}}},
  };
}

}  // namespace weave::router
