#include "router/router.h"

#include "router/version_check.h"

namespace weave::router {
namespace {

void FillIpamStatus(const ipam::RingStatus& ring, v1::IpamStatus* ipam) {
  using State = ipam::RingStatus::State;
  switch (ring.state) {
    case State::kIdle:
      ipam->set_state(v1::IpamStatus::IDLE);
      break;
    case State::kAwaitingConsensus:
      ipam->set_state(v1::IpamStatus::AWAITING_CONSENSUS);
      ipam->set_consensus_quorum(ring.quorum);
      ipam->set_consensus_known(ring.known);
      break;
    case State::kReady:
      ipam->set_state(v1::IpamStatus::READY);
      break;
    case State::kWaitingForSpace:
      ipam->set_state(v1::IpamStatus::WAITING_FOR_SPACE);
      break;
    case State::kAllUnreachable:
      ipam->set_state(v1::IpamStatus::ALL_RANGES_UNREACHABLE);
      break;
  }
  for (const ipam::RingStatus::Entry& entry : ring.entries) {
    v1::RingEntry* out = ipam->add_entries();
    out->set_token(net::Ipv4(entry.token).ToString());
    out->set_size(entry.size);
    out->set_peer(entry.peer.ToString());
    out->set_nickname(entry.nickname);
    out->set_is_known_peer(entry.reachable);
    out->set_version(entry.version);
    out->set_free(entry.free);
  }
  for (uint64_t i = 0; i < ring.pending_allocations; ++i) ipam->add_pending_allocates("pod");
  ipam->set_conflict(ring.conflict);
}

}  // namespace

Router::Router(RouterConfig config, PeerName name, uint64_t uid,
               ipam::RingAllocator* allocator)
    : config_(std::move(config)),
      name_(name),
      uid_(uid),
      allocator_(allocator),
      readiness_({kReadyApi, kReadyNetwork}) {}

v1::Status Router::Status() const {
  v1::Status status;
  std::vector<std::string> not_ready = readiness_.NotReady();
  status.set_ready(not_ready.empty());
  for (const std::string& condition : not_ready) status.add_not_ready(condition);
  status.set_version(WEAVE_VERSION);
  // The original's check service is gone and this product does not phone home: the check is
  // disabled unless the operator configured a service of their own.
  if (version_checker_ != nullptr) {
    *status.mutable_version_check() = version_checker_->Status();
  } else {
    status.mutable_version_check()->set_enabled(false);
  }

  v1::RouterStatus* router = status.mutable_router();
  router->set_protocol("weave");
  router->set_protocol_min_version(kProtocolMinVersion);
  router->set_protocol_max_version(kProtocolMaxVersion);
  router->set_encryption(!config_.password.empty());
  router->set_peer_discovery(config_.peer_discovery);
  router->set_name(name_.ToString());
  router->set_nickname(config_.nickname);
  router->set_port(config_.port);
  router->set_uid(uid_);
  router->set_conn_limit(config_.conn_limit);
  if (mesh::Mesh* mesh = mesh_.load()) {
    mesh->FillStatus(router);
  } else {
    v1::Peer* self = router->add_peers();
    self->set_name(name_.ToString());
    self->set_nickname(config_.nickname);
    self->set_uid(uid_);
    for (const net::HostPort& target : config_.peers) router->add_targets(target.ToString());
  }
  if (const overlay::Overlay* overlay = overlay_.load()) {
    const overlay::OverlayStats stats = overlay->Stats();
    v1::OverlayStatus* out = router->mutable_overlay();
    out->set_fastdp(stats.fastdp);
    out->set_fastdp_links(stats.fastdp_links);
    out->set_sleeve_links(stats.sleeve_links);
    out->set_fallbacks(stats.fallbacks);
    out->set_sleeve_tx_frames(stats.sleeve.tx_frames);
    out->set_sleeve_tx_bytes(stats.sleeve.tx_bytes);
    out->set_sleeve_rx_frames(stats.sleeve.rx_frames);
    out->set_sleeve_rx_bytes(stats.sleeve.rx_bytes);
    out->set_sleeve_dropped(stats.sleeve.dropped);
    out->set_sleeve_relayed(stats.sleeve.relayed);
  }
  for (const net::Cidr& subnet : config_.trusted_subnets) {
    router->add_trusted_subnets(subnet.ToString());
  }

  v1::IpamStatus* ipam = status.mutable_ipam();
  if (allocator_ == nullptr) {
    ipam->set_state(v1::IpamStatus::IDLE);
  } else {
    FillIpamStatus(allocator_->Status(), ipam);
    ipam->set_active_ips(allocator_->ActiveCount());
  }
  ipam->set_range(config_.ipalloc_range.ToString());
  ipam->set_range_num_ips(config_.ipalloc_range.Size());
  ipam->set_default_subnet(config_.ipalloc_range.ToString());
  ipam->set_init_mode(config_.ipalloc_init.ToString());
  if (const NpcStatus* npc = npc_.load()) npc->Fill(&status);
  return status;
}

}  // namespace weave::router
