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
    if (!peer.forward) continue;
    forwarding_.push_back(&peer);
    if (peer.direct()) flood_.push_back({&peer, kBroadcastPeer});
  }
  for (const SleevePeer* peer : forwarding_) {
    if (peer->direct()) continue;
    if (const SleevePeer* next = NextHop(*peer)) flood_.push_back({next, peer->name});
  }
}

const SleevePeer* PeerSet::Find(PeerName name) const {
  auto it = std::lower_bound(peers_.begin(), peers_.end(), SleevePeer{.name = name}, ByName);
  return it != peers_.end() && it->name == name ? &*it : nullptr;
}

const SleevePeer* PeerSet::NextHop(const SleevePeer& peer) const {
  if (peer.direct()) return &peer;
  const SleevePeer* via = Find(peer.via);
  return via != nullptr && via->direct() ? via : nullptr;
}

SendDecision DecideSend(const PeerSet& peers, const MacTable& macs, absl::Span<const uint8_t> frame,
                        absl::Time now) {
  if (frame.size() < kEthernetHeaderSize) return {SendAction::kDropMalformed};
  const uint64_t destination = MacKey(frame.data());
  if (destination == kStpMac) return {SendAction::kDropControl};
  if (!IsGroupMac(destination)) {
    if (std::optional<PeerName> owner = macs.Lookup(destination, now)) {
      const SleevePeer* peer = peers.Find(*owner);
      if (peer != nullptr && peer->forward) {
        if (const SleevePeer* next = peers.NextHop(*peer)) {
          return {SendAction::kUnicast, {next, peer->name}};
        }
      }
    }
  }
  if (peers.flood().empty()) return {SendAction::kDropNoPeers};
  return {SendAction::kFlood};
}

ReplayWindow& ReplayState::Window(PeerName sender, const crypto::Key32& key, MessageType type) {
  auto [it, added] = senders_.try_emplace(sender.value());
  Sender& state = it->second;
  if (added || state.key != key) state = Sender{.key = key};
  return type == MessageType::kHeartbeat ? state.heartbeats : state.data;
}

void ReplayState::Prune(const PeerSet& peers) {
  absl::erase_if(senders_, [&peers](const auto& entry) {
    const SleevePeer* peer = peers.Find(PeerName(entry.first));
    return peer == nullptr || !peer->direct() || !peer->key.has_value();
  });
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
    case ReceiveDrop::kUnsealed:
      return "not sealed, but the sender has a key";
    case ReceiveDrop::kUnexpectedSeal:
      return "sealed, but we have no key for the sender";
    case ReceiveDrop::kBadSeal:
      return "does not open with the sender's key (wrong key, or tampered)";
    case ReceiveDrop::kReplayed:
      return "replayed (counter already seen, or too old)";
    case ReceiveDrop::kHopLimit:
      return "hop limit used up";
    case ReceiveDrop::kNoRoute:
      return "for a peer we cannot relay to";
  }
  return "unknown reason";
}

ReceiveDecision DecideReceive(PeerName self, const PeerSet& peers, const sockaddr_in& from,
                              absl::Span<uint8_t> bytes, ReplayState& replay) {
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
  if (sender == nullptr || !sender->direct()) return drop(ReceiveDrop::kUnknownSender);
  if (from.sin_family != AF_INET || from.sin_addr.s_addr != sender->address.sin_addr.s_addr) {
    return drop(ReceiveDrop::kWrongAddress);
  }

  const bool sealed = (header.flags & kFlagSealed) != 0;
  if (sender->key.has_value()) {
    if (!sealed) return drop(ReceiveDrop::kUnsealed);
    ReplayWindow& window = replay.Window(header.sender, *sender->key, header.type);
    if (!window.Check(header.counter)) return drop(ReceiveDrop::kReplayed);
    decision.wire_error = OpenDatagram(*sender->key, bytes, &decision.datagram);
    if (decision.wire_error == WireError::kBadSeal) return drop(ReceiveDrop::kBadSeal);
    // Authentic from here on, even if malformed: its counter is spent.
    window.Accept(header.counter);
    if (decision.wire_error != WireError::kOk) return drop(ReceiveDrop::kMalformed);
  } else if (sealed) {
    return drop(ReceiveDrop::kUnexpectedSeal);
  }

  if (header.type == MessageType::kHeartbeat) {
    if (header.destination != self) return drop(ReceiveDrop::kNotForUs);
    (void)DecodeHeartbeat(decision.datagram.payload, &decision.heartbeat_seq);  // Checked above.
    decision.action = ReceiveAction::kHeartbeat;
    return decision;
  }

  if (header.source == self) return drop(ReceiveDrop::kLoop);
  if (header.destination != self && header.destination != kBroadcastPeer) {
    const SleevePeer* destination = peers.Find(header.destination);
    if (destination == nullptr) return drop(ReceiveDrop::kNotForUs);
    if (header.hop_limit <= 1) return drop(ReceiveDrop::kHopLimit);
    const SleevePeer* next = peers.NextHop(*destination);
    if (next == nullptr || next == sender) return drop(ReceiveDrop::kNoRoute);
    decision.action = ReceiveAction::kRelay;
    decision.next_hop = next;
    return decision;
  }
  const SleevePeer* source = peers.Find(header.source);
  decision.action = ReceiveAction::kDeliver;
  decision.learn = source != nullptr && source->forward;
  return decision;
}

}  // namespace weave::overlay
