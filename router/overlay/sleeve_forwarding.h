// The sleeve's forwarding decisions as functions of values: where a frame captured on our TAP goes
// (DecideSend) and what to do with a datagram from the network (DecideReceive). The runtime
// (sleeve.h) only moves bytes between its socket and its TAP as these say, so relaying (a data
// datagram for another peer, forwarded with the hop limit decremented) and decryption (a sealed
// payload opened with the sender's key) become new cases here rather than a rewrite of the loops.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/peer_name.h"
#include "router/overlay/mac_table.h"
#include "router/overlay/sleeve_wire.h"

namespace weave::overlay {

struct SleevePeer {
  PeerName name;
  sockaddr_in address{};  // Its sleeve UDP address (IPv4 and port, network order).
  // True: the link to this peer uses sleeve (frames go to it). False: the peer is known (its
  // heartbeats and frames are accepted, so that a mode switch need not happen at the same moment
  // on both ends) but our frames go to it by fastdp, and nothing is learned from it.
  bool forward = false;
};

// An immutable set of peers, unique by name. Not copyable (forwarding() points into it); movable.
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
  // In name order.
  const std::vector<SleevePeer>& peers() const { return peers_; }
  // The peers with forward = true, in name order.
  absl::Span<const SleevePeer* const> forwarding() const { return forwarding_; }

 private:
  std::vector<SleevePeer> peers_;
  std::vector<const SleevePeer*> forwarding_;
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
  const SleevePeer* peer = nullptr;  // For kUnicast; points into the PeerSet.
};

// `frame` is the Ethernet frame (after the virtio header). A unicast destination learned for a
// forwarding peer goes to that peer; anything else (broadcast, multicast, unknown, or learned for
// a peer that is not forwarding) is flooded to every forwarding peer.
SendDecision DecideSend(const PeerSet& peers, const MacTable& macs, absl::Span<const uint8_t> frame,
                        absl::Time now);

// ---- UDP -> TAP ----

enum class ReceiveAction { kDrop, kHeartbeat, kDeliver };

enum class ReceiveDrop : uint8_t {
  kNone = 0,
  kMalformed,      // DecodeDatagram failed: see wire_error.
  kUnknownSender,  // The sender is not in the peer set.
  kWrongAddress,   // From another IP address than the sender's (the port may differ).
  kNotForUs,       // A heartbeat for another peer, or data for another peer (no relaying yet).
  kLoop,           // Data whose source is ourselves.
};
inline constexpr int kReceiveDropCount = static_cast<int>(ReceiveDrop::kLoop) + 1;
absl::string_view ReceiveDropText(ReceiveDrop drop);

struct ReceiveDecision {
  ReceiveAction action = ReceiveAction::kDrop;
  ReceiveDrop drop = ReceiveDrop::kNone;
  WireError wire_error = WireError::kOk;  // For kMalformed.
  Datagram datagram;                      // Decoded, unless kMalformed.
  uint64_t heartbeat_seq = 0;             // For kHeartbeat.
  // For kDeliver: write datagram.payload (virtio header + frame) into the TAP; when `learn`,
  // first learn the frame's source MAC as behind datagram.header.source.
  bool learn = false;
};

// `from` is the datagram's UDP source address, `bytes` the datagram.
ReceiveDecision DecideReceive(PeerName self, const PeerSet& peers, const sockaddr_in& from,
                              absl::Span<const uint8_t> bytes);

}  // namespace weave::overlay
