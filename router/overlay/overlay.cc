#include "router/overlay/overlay.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "router/overlay/fastdp.h"
#include "spdlog/spdlog.h"
#include "weave/mesh.pb.h"

namespace weave::overlay {
namespace {

using Control = mesh::v1::OverlayControl;

constexpr netlink::MacAddress kFloodMac{};  // all zeros: the VXLAN device's flood list

Control::Overlay ToWire(Mode mode) {
  switch (mode) {
    case Mode::kFastdp:
      return Control::FASTDP;
    case Mode::kSleeve:
      return Control::SLEEVE;
    case Mode::kNone:
      break;
  }
  return Control::OVERLAY_UNSPECIFIED;
}

Mode FromWire(Control::Overlay overlay) {
  switch (overlay) {
    case Control::FASTDP:
      return Mode::kFastdp;
    case Control::SLEEVE:
      return Mode::kSleeve;
    default:
      return Mode::kNone;
  }
}

std::string AckMessage(Control::Overlay overlay, uint64_t seq) {
  Control control;
  control.mutable_ack()->set_overlay(overlay);
  control.mutable_ack()->set_seq(seq);
  return control.SerializeAsString();
}

bool Offers(const mesh::Neighbour& neighbour, const std::string& overlay) {
  return std::find(neighbour.overlays.begin(), neighbour.overlays.end(), overlay) !=
         neighbour.overlays.end();
}

}  // namespace

void MeshAdapter::Send(PeerName to, const std::string& payload) {
  absl::Status sent = mesh_->Unicast(kOverlayChannel, to, payload);
  if (!sent.ok()) spdlog::debug("Overlay message to {}: {}", to.ToString(), std::string(sent.message()));
}

Overlay::Overlay(OverlayConfig config, netlink::Netlink* netlink,
                 std::function<absl::Time()> clock)
    : config_(std::move(config)), netlink_(netlink), clock_(std::move(clock)) {}

absl::Status Overlay::Adopt(absl::Time now) {
  absl::StatusOr<std::vector<netlink::FdbEntry>> entries = netlink_->ListFdb(config_.vxlan_device);
  if (!entries.ok()) return entries.status();
  std::lock_guard<std::mutex> lock(mu_);
  for (const netlink::FdbEntry& entry : *entries) {
    if (!entry.self || !entry.permanent || entry.mac != kFloodMac || !entry.dst) continue;
    adopted_[entry.dst->value()] = now + config_.grace;
    programmed_.insert(entry.dst->value());
  }
  if (!adopted_.empty()) {
    spdlog::info(
        "Keeping the VXLAN entries of {} peer(s) from before the restart while their "
        "connections come back",
        adopted_.size());
  }
  return absl::OkStatus();
}

void Overlay::Attach(OverlayMesh* mesh, DataPaths* paths) {
  std::lock_guard<std::mutex> lock(mu_);
  mesh_ = mesh;
  paths_ = paths;
}

std::string Overlay::FastdpRefusal(const mesh::Neighbour& neighbour) const {
  if (config_.no_fastdp) return "fastdp is disabled here (WEAVE_NO_FASTDP)";
  if (paths_ != nullptr && !paths_->has_fastdp()) return "this node has no VXLAN device";
  if (!Offers(neighbour, "fastdp")) return "the peer does not offer fastdp";
  if (neighbour.encrypted && !neighbour.trusted) return "the link is encrypted";
  return "";
}

void Overlay::Tick(absl::Time now) {
  struct Heartbeat {
    PeerName peer;
    net::Ipv4 ip;
    uint64_t seq;
    bool fastdp;
  };
  std::vector<Heartbeat> heartbeats;
  std::vector<std::pair<PeerName, std::string>> notices;
  std::map<PeerName, Mode> changed;
  OverlayMesh* mesh = nullptr;
  DataPaths* paths = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    mesh = mesh_;
    paths = paths_;
  }
  if (mesh == nullptr || paths == nullptr) return;
  const std::vector<mesh::Neighbour> neighbours = mesh->Neighbours();
  const std::map<PeerName, PeerName> next_hops = mesh->NextHops();

  std::vector<SleeveTarget> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Follow the mesh: new connections get a link, gone ones leave (fastdp ones into grace).
    std::set<PeerName> present;
    for (const mesh::Neighbour& neighbour : neighbours) {
      absl::StatusOr<net::Ipv4> ip = net::Ipv4::Parse(neighbour.remote_ip);
      if (!ip.ok()) continue;  // not IPv4: no data path
      present.insert(neighbour.name);
      auto it = links_.find(neighbour.name);
      if (it != links_.end() && it->second.connection_uid != neighbour.connection_uid) {
        links_.erase(it);  // a new connection: decide afresh
        it = links_.end();
      }
      if (it == links_.end()) {
        it = links_
                 .emplace(neighbour.name,
                          Link(LinkSwitch(config_.switching, FastdpRefusal(neighbour), now)))
                 .first;
        it->second.ip = *ip;
        it->second.nickname = neighbour.nickname;
        it->second.port = neighbour.listen_port;
        it->second.connection_uid = neighbour.connection_uid;
        it->second.key = neighbour.data_key;
        // Sequence numbers start where no earlier connection's could be.
        it->second.first_seq = it->second.next_seq = static_cast<uint64_t>(absl::ToUnixMicros(now))
                                                     << 8;
      }
    }
    for (auto it = links_.begin(); it != links_.end();) {
      if (present.count(it->first)) {
        ++it;
        continue;
      }
      if (it->second.decide.mode() == Mode::kFastdp) {
        graced_[it->first] = {it->second.ip, now + config_.grace};
      }
      it = links_.erase(it);
    }

    for (auto& [peer, link] : links_) {
      if (now >= link.next_heartbeat) {
        link.next_heartbeat = now + config_.switching.heartbeat;
        const uint64_t seq = link.next_seq++;
        if (link.decide.fastdp_allowed()) heartbeats.push_back({peer, link.ip, seq, true});
        heartbeats.push_back({peer, link.ip, seq, false});
      }
      const Mode before = link.decide.mode();
      Decision decision = link.decide.Evaluate(now);
      if (!decision.changed) continue;
      changed[peer] = decision.mode;
      if (before == Mode::kFastdp) ++fallbacks_;
      const std::string who = absl::StrCat(peer.ToString(), "(", link.nickname, ")");
      if (decision.mode == Mode::kFastdp) {
        spdlog::info("Connection to {}: using fastdp ({})", who, decision.reason);
      } else if (decision.mode == Mode::kSleeve && !link.decide.fastdp_allowed()) {
        spdlog::info("Connection to {}: using sleeve ({})", who, decision.reason);
      } else if (decision.mode == Mode::kSleeve) {
        spdlog::warn("Connection to {}: {}", who, decision.reason);
      } else {
        spdlog::error("Connection to {}: {}", who, decision.reason);
      }
      Control control;
      control.mutable_switched()->set_overlay(ToWire(decision.mode));
      control.mutable_switched()->set_reason(decision.reason);
      notices.emplace_back(peer, control.SerializeAsString());
    }
    for (const auto& [peer, link] : links_) {
      targets.push_back(
          {peer, link.ip, link.port, link.decide.mode() == Mode::kSleeve, link.key, PeerName()});
    }
    // Peers we have no connection to are reached through the neighbour the routes name.
    for (const auto& [peer, via] : next_hops) {
      if (peer == config_.self || links_.count(peer) || !links_.count(via)) continue;
      targets.push_back({peer, net::Ipv4(), 0, true, std::nullopt, via});
    }
    if (targets != sleeve_targets_) {
      sleeve_targets_ = targets;
    } else {
      targets.clear();
    }
  }

  for (const Heartbeat& heartbeat : heartbeats) {
    absl::Status sent =
        heartbeat.fastdp ? paths->SendFastdpHeartbeat(heartbeat.peer, heartbeat.ip, heartbeat.seq)
                         : paths->SendSleeveHeartbeat(heartbeat.peer, heartbeat.seq);
    if (heartbeat.fastdp) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = links_.find(heartbeat.peer);
      if (it != links_.end()) {
        std::string error = sent.ok() ? "" : std::string(sent.message());
        if (error != it->second.fastdp_send_error && !error.empty()) {
          spdlog::warn("Connection to {}({}): fastdp heartbeat: {}", heartbeat.peer.ToString(),
                       it->second.nickname, error);
        }
        it->second.fastdp_send_error = error;
      }
    } else if (!sent.ok()) {
      spdlog::debug("Connection to {}: sleeve heartbeat: {}", heartbeat.peer.ToString(),
                    std::string(sent.message()));
    }
  }
  for (const auto& [peer, payload] : notices) mesh->Send(peer, payload);
  Apply(changed, now);
  if (!targets.empty()) paths->SetSleeveTargets(std::move(targets));
}

absl::Status Overlay::RemoveVxlanPeer(net::Ipv4 ip) {
  absl::Status status = netlink_->DeleteFdb(config_.vxlan_device, kFloodMac, ip);
  if (absl::IsNotFound(status)) status = absl::OkStatus();
  // Unicast entries the device learned for that peer's pods would keep pulling frames to it.
  absl::StatusOr<std::vector<netlink::FdbEntry>> entries = netlink_->ListFdb(config_.vxlan_device);
  if (!entries.ok()) return entries.status();
  for (const netlink::FdbEntry& entry : *entries) {
    if (!entry.self || entry.permanent || entry.dst != ip) continue;
    absl::Status deleted = netlink_->DeleteFdb(config_.vxlan_device, entry.mac, ip);
    if (!deleted.ok() && !absl::IsNotFound(deleted) && status.ok()) status = deleted;
  }
  return status;
}

// Makes the VXLAN device's flood list match the fastdp peers (plus those in grace), and makes
// the bridge relearn where MACs are when a link changed path. Runs on the Tick thread only.
void Overlay::Apply(const std::map<PeerName, Mode>& changed, absl::Time now) {
  std::set<uint32_t> wanted;
  std::set<uint32_t> current;
  DataPaths* paths = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    paths = paths_;
    // A link that has decided speaks for itself; until then, and until its grace ends, a peer
    // keeps the entry it had (its router, or ours, is restarting).
    auto decided = [&](net::Ipv4 ip) {
      for (const auto& [peer, link] : links_) {
        if (link.ip == ip && link.decide.mode() != Mode::kNone) return true;
      }
      return false;
    };
    for (auto it = graced_.begin(); it != graced_.end();) {
      if (now >= it->second.until || decided(it->second.ip)) {
        it = graced_.erase(it);
      } else {
        wanted.insert(it->second.ip.value());
        ++it;
      }
    }
    for (auto it = adopted_.begin(); it != adopted_.end();) {
      if (now >= it->second || decided(net::Ipv4(it->first))) {
        it = adopted_.erase(it);
      } else {
        wanted.insert(it->first);
        ++it;
      }
    }
    for (const auto& [peer, link] : links_) {
      if (link.decide.mode() == Mode::kFastdp) wanted.insert(link.ip.value());
    }
    current = programmed_;
  }
  if (paths == nullptr || !paths->has_fastdp()) wanted.clear();

  std::set<uint32_t> programmed = current;
  for (uint32_t ip : wanted) {
    if (current.count(ip)) continue;
    absl::Status added = netlink_->AddFdb(config_.vxlan_device, kFloodMac, net::Ipv4(ip));
    if (added.ok()) {
      programmed.insert(ip);
    } else {
      spdlog::error("Adding {} to the VXLAN flood list: {}", net::Ipv4(ip).ToString(),
                    std::string(added.message()));
    }
  }
  for (uint32_t ip : current) {
    if (wanted.count(ip)) continue;
    absl::Status removed = RemoveVxlanPeer(net::Ipv4(ip));
    if (removed.ok()) {
      programmed.erase(ip);
    } else {
      spdlog::error("Removing {} from the VXLAN device: {}", net::Ipv4(ip).ToString(),
                    std::string(removed.message()));
    }
  }
  if (!changed.empty()) {
    for (const auto& [peer, mode] : changed) paths->ForgetSleevePeer(peer);
    for (const std::string& port : {config_.vxlan_device, config_.sleeve_device}) {
      absl::Status flushed = netlink_->FlushLearned(port);
      if (!flushed.ok() && !absl::IsNotFound(flushed)) {
        spdlog::warn("Forgetting what the bridge learned on {}: {}", port, std::string(flushed.message()));
      }
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  programmed_ = std::move(programmed);
}

void Overlay::OnFastdpHeartbeat(PeerName from, uint64_t seq, absl::Time now) {
  OverlayMesh* mesh = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = links_.find(from);
    if (it == links_.end()) return;
    it->second.decide.fastdp().Heard(now);
    mesh = mesh_;
  }
  if (mesh != nullptr) mesh->Send(from, AckMessage(Control::FASTDP, seq));
}

void Overlay::OnSleeveHeartbeat(PeerName from, uint64_t seq, absl::Time now) {
  OverlayMesh* mesh = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = links_.find(from);
    if (it == links_.end()) return;
    it->second.decide.sleeve().Heard(now);
    mesh = mesh_;
  }
  if (mesh != nullptr) mesh->Send(from, AckMessage(Control::SLEEVE, seq));
}

absl::Status Overlay::OnUnicast(PeerName source, absl::string_view payload) {
  Control control;
  if (!control.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError("overlay control message does not parse");
  }
  const absl::Time now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = links_.find(source);
  if (it == links_.end()) return absl::OkStatus();  // a link that just went
  Link& link = it->second;
  if (control.has_ack()) {
    const uint64_t seq = control.ack().seq();
    if (seq < link.first_seq || seq >= link.next_seq) return absl::OkStatus();  // stale
    if (control.ack().overlay() == Control::FASTDP) link.decide.fastdp().Acked(now);
    if (control.ack().overlay() == Control::SLEEVE) link.decide.sleeve().Acked(now);
  } else if (control.has_switched()) {
    link.decide.PeerSwitched(FromWire(control.switched().overlay()), now);
  }
  return absl::OkStatus();
}

std::optional<mesh::OverlayLinkStatus> Overlay::LinkStatus(PeerName peer) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = links_.find(peer);
  if (it == links_.end()) return std::nullopt;
  mesh::OverlayLinkStatus status;
  status.overlay = ModeName(it->second.decide.mode());
  if (!status.overlay.empty()) status.attrs["mtu"] = std::to_string(config_.mtu);
  return status;
}

OverlayStats Overlay::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  OverlayStats stats;
  for (const auto& [peer, link] : links_) {
    if (link.decide.mode() == Mode::kFastdp) ++stats.fastdp_links;
    if (link.decide.mode() == Mode::kSleeve) ++stats.sleeve_links;
  }
  stats.fallbacks = fallbacks_;
  if (paths_ != nullptr) {
    stats.fastdp = paths_->has_fastdp();
    stats.sleeve = paths_->Counters();
  }
  return stats;
}

}  // namespace weave::overlay
