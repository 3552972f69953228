// The sleeve's forwarding decisions as functions of values: where a frame captured on our TAP goes
// (DecideSend) and what to do with a datagram from the network (DecideReceive: open it if sealed,
// deliver it, relay it, or drop it). The runtime (sleeve.h) only moves bytes between its socket
// and its TAP as these say.
//
// Relaying: the mesh computes routes; a peer it reaches through another is given here with `via`,
// the direct peer that carries its datagrams (destination = the relayed peer). A flooded frame
// goes to every direct forwarding peer as a broadcast and, as a unicast copy through its via, to
// every relayed forwarding peer: each node gets it exactly once and broadcasts are never relayed,
// so there are no loops. A relay forwards unicast data for another peer one hop closer, with the
// hop limit decremented, never back to the hop it came from, without delivering or learning it,
// whatever `forward` says of the destination (that flag is about our own frames).
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/crypto/box.h"
#include "common/peer_name.h"
#include "router/overlay/mac_table.h"
#include "router/overlay/replay_window.h"
#include "router/overlay/sleeve_wire.h"

namespace weave::overlay {

struct SleevePeer {
  PeerName name;
  sockaddr_in address{};  // Its sleeve UDP address (IPv4 and port, network order); direct only.
  // True: the link to this peer uses sleeve (frames go to it). False: the peer is known (its
  // heartbeats and frames are accepted, so that a mode switch need not happen at the same moment
  // on both ends) but our frames go to it by fastdp, and nothing is learned from it.
  bool forward = false;
  // The link's data key (crypto::DeriveDataKey of the mesh connection's session key), direct
  // peers only. Set: every datagram to this peer is sealed, and every datagram from it must be
  // sealed, open with this key and carry a counter not seen before under it. Unset: plain both
  // ways (a sealed datagram from it is dropped).
  std::optional<crypto::Key32> key;
  // PeerName() for a direct peer. Otherwise the direct peer, in the same set, through which this
  // peer is reached; a relayed peer's address and key are ignored (its datagrams go to `via`'s
  // address under `via`'s key), and datagrams whose sender claims to be it are dropped.
  PeerName via;

  bool direct() const { return via.value() == 0; }
};

// Where one copy of a frame goes: sent to `next_hop` (a direct peer), for `destination` (the peer
// the frame is for, or kBroadcastPeer).
struct SleeveRoute {
  const SleevePeer* next_hop = nullptr;
  PeerName destination;
};

// An immutable set of peers, unique by name. Not copyable (its views point into it); movable.
class PeerSet {
 public:
  PeerSet() = default;
  // A later entry with a name already seen replaces the earlier one.
  explicit PeerSet(std::vector<SleevePeer> peers);
  PeerSet(PeerSet&&) = default;
  PeerSet& operator=(PeerSet&&) = default;
  PeerSet(const PeerSet&) = delete;
  PeerSet& operator=(const PeerSet&) = delete;

  // nullptr when `name` is not in the set.
  const SleevePeer* Find(PeerName name) const;
  // The direct peer that carries datagrams for `peer` (a member of this set): itself if direct,
  // else its via if that is a direct peer of this set; nullptr when it cannot be reached.
  const SleevePeer* NextHop(const SleevePeer& peer) const;
  // In name order.
  const std::vector<SleevePeer>& peers() const { return peers_; }
  // The peers with forward = true, direct or relayed, in name order.
  absl::Span<const SleevePeer* const> forwarding() const { return forwarding_; }
  // Where a flooded frame goes: each direct forwarding peer with destination kBroadcastPeer, then
  // each reachable relayed forwarding peer through its next hop with itself as destination.
  absl::Span<const SleeveRoute> flood() const { return flood_; }

 private:
  std::vector<SleevePeer> peers_;
  std::vector<const SleevePeer*> forwarding_;
  std::vector<SleeveRoute> flood_;
};

// ---- TAP -> UDP ----

enum class SendAction {
  kUnicast,        // To `peer` only.
  kFlood,          // To every forwarding peer, destination kBroadcastPeer.
  kDropControl,    // STP (01:80:c2:00:00:00): bridge control traffic stays on its bridge.
  kDropNoPeers,    // Nowhere to send it: no forwarding peer.
  kDropMalformed,  // Shorter than an Ethernet header (our own kernel never gives us that).
};

struct SendDecision {
  SendAction action = SendAction::kDropMalformed;
  SleeveRoute route;  // For kUnicast; points into the PeerSet.
};

// `frame` is the Ethernet frame (after the virtio header). A unicast destination learned for a
// reachable forwarding peer goes to that peer (through its via if relayed); anything else
// (broadcast, multicast, unknown, or learned for a peer that is not forwarding or cannot be
// reached) is flooded along PeerSet::flood().
SendDecision DecideSend(const PeerSet& peers, const MacTable& macs, absl::Span<const uint8_t> frame,
                        absl::Time now);

// ---- UDP -> TAP ----

// What the receive path remembers between datagrams: for each sender with a key, the counters
// accepted under that key (a new key starts afresh: the sender may have restarted its counters).
// It outlives PeerSet updates, which keep the key. Owned by the receive thread; not thread-safe.
// Allocates only for a sender not seen before.
class ReplayState {
 public:
  // The window of `sender`'s datagrams of `type` under `key`.
  ReplayWindow& Window(PeerName sender, const crypto::Key32& key, MessageType type);
  // Forgets the senders that are not direct peers with a key in `peers`.
  void Prune(const PeerSet& peers);
  size_t size() const { return senders_.size(); }

 private:
  struct Sender {
    crypto::Key32 key;
    ReplayWindow data;
    ReplayWindow heartbeats;
  };
  absl::flat_hash_map<uint64_t, Sender> senders_;  // By PeerName::value().
};

enum class ReceiveAction { kDrop, kHeartbeat, kDeliver, kRelay };

enum class ReceiveDrop : uint8_t {
  kNone = 0,
  kMalformed,       // DecodeDatagram or OpenDatagram failed: see wire_error.
  kUnknownSender,   // The sender is not a direct peer in the set.
  kWrongAddress,    // From another IP address than the sender's (the port may differ).
  kNotForUs,        // A heartbeat for another peer, or data for a peer not in the set.
  kLoop,            // Data whose source is ourselves.
  kUnsealed,        // Plain, but the sender has a key.
  kUnexpectedSeal,  // Sealed, but we have no key for the sender.
  kBadSeal,         // Sealed, but does not open with the sender's key (wire_error kBadSeal).
  kReplayed,        // A counter already accepted from the sender, or too old to tell.
  kHopLimit,        // Data to relay whose hop limit is used up.
  kNoRoute,         // Data to relay to a peer we cannot reach, or only back through its sender.
};
inline constexpr int kReceiveDropCount = static_cast<int>(ReceiveDrop::kNoRoute) + 1;
absl::string_view ReceiveDropText(ReceiveDrop drop);

struct ReceiveDecision {
  ReceiveAction action = ReceiveAction::kDrop;
  ReceiveDrop drop = ReceiveDrop::kNone;
  WireError wire_error = WireError::kOk;  // For kMalformed and kBadSeal.
  // Decoded (and opened: payload is then the plaintext), unless kMalformed or kBadSeal.
  Datagram datagram;
  uint64_t heartbeat_seq = 0;  // For kHeartbeat.
  // For kDeliver: write datagram.payload (virtio header + frame) into the TAP; when `learn`,
  // first learn the frame's source MAC as behind datagram.header.source.
  bool learn = false;
  // For kRelay: send datagram.payload on to this direct peer, with the header's source and
  // destination and hop_limit - 1, as a datagram of ours (sealed with its key, if any).
  const SleevePeer* next_hop = nullptr;
};

// `from` is the datagram's UDP source address, `bytes` the datagram, which is opened in place if
// sealed. A sealed datagram's counter is recorded in `replay` once it opened.
ReceiveDecision DecideReceive(PeerName self, const PeerSet& peers, const sockaddr_in& from,
                              absl::Span<uint8_t> bytes, ReplayState& replay);

}  // namespace weave::overlay
