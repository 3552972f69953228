#include "router/overlay/sleeve_forwarding.h"

#include <algorithm>

namespace weave::overlay {
namespace {

constexpr uint64_t kStpMac = 0x0180c2000000ULL;

bool ByName(const SleevePeer& a, const SleevePeer& b) { return a.name < b.name; }

}  // namespace

PeerSet::PeerSet(std::vector<SleevePeer> peers) {
  // Stable, so that among equal names the last one given ends up last; keep that one.
  std::stable_sort(peers.begin(), peers.end(), ByName);
  for (SleevePeer& peer : peers) {
    if (!peers_.empty() && peers_.back().name == peer.name) {
      peers_.back() = peer;
    } else {
      peers_.push_back(peer);
    }
  }
  for (const SleevePeer& peer : peers_) {
    if (peer.forward) forwarding_.push_back(&peer);
  }
}

const SleevePeer* PeerSet::Find(PeerName name) const {
  auto it = std::lower_bound(peers_.begin(), peers_.end(), SleevePeer{.name = name}, ByName);
  return it != peers_.end() && it->name == name ? &*it : nullptr;
}

SendDecision DecideSend(const PeerSet& peers, const MacTable& macs, absl::Span<const uint8_t> frame,
                        absl::Time now) {
  if (frame.size() < kEthernetHeaderSize) return {SendAction::kDropMalformed};
  const uint64_t destination = MacKey(frame.data());
  if (destination == kStpMac) return {SendAction::kDropControl};
  if (!IsGroupMac(destination)) {
    if (std::optional<PeerName> owner = macs.Lookup(destination, now)) {
      const SleevePeer* peer = peers.Find(*owner);
      if (peer != nullptr && peer->forward) return {SendAction::kUnicast, peer};
    }
  }
  if (peers.forwarding().empty()) return {SendAction::kDropNoPeers};
  return {SendAction::kFlood};
}

absl::string_view ReceiveDropText(ReceiveDrop drop) {
  switch (drop) {
    case ReceiveDrop::kNone:
      return "not dropped";
    case ReceiveDrop::kMalformed:
      return "malformed";
    case ReceiveDrop::kUnknownSender:
      return "unknown sender";
    case ReceiveDrop::kWrongAddress:
      return "sender's name from another IP address";
    case ReceiveDrop::kNotForUs:
      return "destined to another peer";
    case ReceiveDrop::kLoop:
      return "our own frame came back";
  }
  return "unknown reason";
}

ReceiveDecision DecideReceive(PeerName self, const PeerSet& peers, const sockaddr_in& from,
                              absl::Span<const uint8_t> bytes) {
  ReceiveDecision decision;
  auto drop = [&decision](ReceiveDrop reason) {
    decision.action = ReceiveAction::kDrop;
    decision.drop = reason;
    return decision;
  };
  decision.wire_error = DecodeDatagram(bytes, &decision.datagram);
  if (decision.wire_error != WireError::kOk) return drop(ReceiveDrop::kMalformed);
  const Header& header = decision.datagram.header;

  const SleevePeer* sender = peers.Find(header.sender);
  if (sender == nullptr) return drop(ReceiveDrop::kUnknownSender);
  if (from.sin_family != AF_INET || from.sin_addr.s_addr != sender->address.sin_addr.s_addr) {
    return drop(ReceiveDrop::kWrongAddress);
  }

  if (header.type == MessageType::kHeartbeat) {
    if (header.destination != self) return drop(ReceiveDrop::kNotForUs);
    (void)DecodeHeartbeat(decision.datagram.payload, &decision.heartbeat_seq);  // Checked above.
    decision.action = ReceiveAction::kHeartbeat;
    return decision;
  }

  if (header.source == self) return drop(ReceiveDrop::kLoop);
  if (header.destination != self && header.destination != kBroadcastPeer) {
    return drop(ReceiveDrop::kNotForUs);
  }
  const SleevePeer* source = peers.Find(header.source);
  decision.action = ReceiveAction::kDeliver;
  decision.learn = source != nullptr && source->forward;
  return decision;
}

}  // namespace weave::overlay
