#include "router/overlay/sleeve_forwarding.h"

#include <arpa/inet.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace weave::overlay {
namespace {

using Bytes = std::vector<uint8_t>;

const PeerName kSelf(0x0a0000000001ULL);
const PeerName kB(0x0b0000000002ULL);
const PeerName kC(0x0c0000000003ULL);
const PeerName kStranger(0x0d0000000004ULL);
const absl::Time kNow = absl::FromUnixSeconds(1'000'000);

sockaddr_in Address(const char* ip, uint16_t port = 6783) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, ip, &address.sin_addr);
  return address;
}

SleevePeer Peer(PeerName name, const char* ip, bool forward) {
  return SleevePeer{.name = name, .address = Address(ip), .forward = forward};
}

SleevePeer KeyedPeer(PeerName name, const char* ip, bool forward, const crypto::Key32& key) {
  SleevePeer peer = Peer(name, ip, forward);
  peer.key = key;
  return peer;
}

SleevePeer RelayedPeer(PeerName name, PeerName via, bool forward) {
  return SleevePeer{.name = name, .forward = forward, .via = via};
}

crypto::Key32 TestKey(uint8_t value) {
  crypto::Key32 key;
  key.fill(value);
  return key;
}

// An Ethernet frame to `destination` from `source` (MACs as integers) with some payload.
Bytes Frame(uint64_t destination, uint64_t source, size_t size = 60) {
  Bytes frame(size, 0x11);
  for (int i = 0; i < 6; ++i) {
    frame[i] = static_cast<uint8_t>(destination >> (40 - 8 * i));
    frame[6 + i] = static_cast<uint8_t>(source >> (40 - 8 * i));
  }
  return frame;
}

Bytes ToBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

Bytes DataPayload(const Bytes& frame) {
  const std::array<uint8_t, kVirtioHeaderSize> virtio = EncodeVirtioHeader({});
  Bytes payload(kVirtioHeaderSize + frame.size());
  std::copy(virtio.begin(), virtio.end(), payload.begin());
  std::copy(frame.begin(), frame.end(), payload.begin() + kVirtioHeaderSize);
  return payload;
}

Header DataHeader(PeerName sender, PeerName source, PeerName destination, uint64_t counter = 0) {
  return Header{.sender = sender, .source = source, .destination = destination, .counter = counter};
}

Bytes DataDatagram(PeerName sender, PeerName source, PeerName destination, const Bytes& frame) {
  return ToBytes(EncodeDatagram(DataHeader(sender, source, destination), DataPayload(frame)));
}

Bytes SealedData(const crypto::Key32& key, const Header& header, const Bytes& frame) {
  return ToBytes(EncodeSealedDatagram(key, header, DataPayload(frame)));
}

Header HeartbeatHeader(PeerName sender, PeerName destination, uint64_t counter = 0) {
  return Header{.type = MessageType::kHeartbeat,
                .sender = sender,
                .source = sender,
                .destination = destination,
                .counter = kHeartbeatCounterBit | counter};
}

Bytes HeartbeatDatagram(PeerName sender, PeerName destination, uint64_t seq) {
  return ToBytes(EncodeDatagram(HeartbeatHeader(sender, destination), EncodeHeartbeat(seq)));
}

// DecideReceive with a replay state of its own unless given one. `bytes` is opened in place and
// the decision's payload points into it.
ReceiveDecision Receive(const PeerSet& peers, const sockaddr_in& from, Bytes& bytes,
                        ReplayState* replay = nullptr) {
  ReplayState fresh;
  return DecideReceive(kSelf, peers, from, absl::MakeSpan(bytes), replay ? *replay : fresh);
}

constexpr uint64_t kMacB = 0x02000000bb01ULL;
constexpr uint64_t kMacC = 0x02000000cc01ULL;
constexpr uint64_t kMacLocal = 0x02000000aa01ULL;

TEST_CASE("PeerSet: sorted, unique (last wins), forwarding subset", "[sleeve_forwarding]") {
  PeerSet peers({Peer(kC, "192.168.1.3", true), Peer(kB, "192.168.1.2", false),
                 Peer(kC, "192.168.1.33", false), Peer(kStranger, "192.168.1.4", true)});
  REQUIRE(peers.peers().size() == 3);
  CHECK(peers.peers()[0].name == kB);
  CHECK(peers.peers()[1].name == kC);
  const SleevePeer* c = peers.Find(kC);
  REQUIRE(c != nullptr);
  CHECK(c->address.sin_addr.s_addr == Address("192.168.1.33").sin_addr.s_addr);
  CHECK_FALSE(c->forward);
  CHECK(peers.Find(kSelf) == nullptr);
  REQUIRE(peers.forwarding().size() == 1);
  CHECK(peers.forwarding()[0]->name == kStranger);

  PeerSet moved = std::move(peers);
  CHECK(moved.forwarding()[0] == moved.Find(kStranger));
}

TEST_CASE("DecideSend: learned unicast to its peer, the rest flooded", "[sleeve_forwarding]") {
  PeerSet peers({Peer(kB, "192.168.1.2", true), Peer(kC, "192.168.1.3", false)});
  MacTable macs;
  macs.Learn(kMacB, kB, kNow);
  macs.Learn(kMacC, kC, kNow);

  SendDecision unicast = DecideSend(peers, macs, Frame(kMacB, kMacLocal), kNow);
  CHECK(unicast.action == SendAction::kUnicast);
  CHECK(unicast.route.next_hop == peers.Find(kB));
  CHECK(unicast.route.destination == kB);

  CHECK(DecideSend(peers, macs, Frame(0xffffffffffffULL, kMacLocal), kNow).action ==
        SendAction::kFlood);
  CHECK(DecideSend(peers, macs, Frame(0x01005e000001ULL, kMacLocal), kNow).action ==
        SendAction::kFlood);
  CHECK(DecideSend(peers, macs, Frame(0x02000000ee01ULL, kMacLocal), kNow).action ==
        SendAction::kFlood);
  // Learned for a peer that does not forward (a stale entry): flooded.
  CHECK(DecideSend(peers, macs, Frame(kMacC, kMacLocal), kNow).action == SendAction::kFlood);
  // Learned, but expired.
  CHECK(DecideSend(peers, macs, Frame(kMacB, kMacLocal), kNow + absl::Minutes(11)).action ==
        SendAction::kFlood);

  CHECK(DecideSend(peers, macs, Frame(0x0180c2000000ULL, kMacLocal), kNow).action ==
        SendAction::kDropControl);
  CHECK(DecideSend(peers, macs, Bytes(13), kNow).action == SendAction::kDropMalformed);

  PeerSet none({Peer(kC, "192.168.1.3", false)});
  CHECK(DecideSend(none, macs, Frame(0xffffffffffffULL, kMacLocal), kNow).action ==
        SendAction::kDropNoPeers);
}

TEST_CASE("DecideReceive delivers data for us or broadcast", "[sleeve_forwarding]") {
  PeerSet peers({Peer(kB, "192.168.1.2", true), Peer(kC, "192.168.1.3", false)});
  const Bytes frame = Frame(kMacLocal, kMacB);
  // Another source port than the peer's is fine.
  const sockaddr_in from_b = Address("192.168.1.2", 40000);

  for (PeerName destination : {kSelf, kBroadcastPeer}) {
    Bytes bytes = DataDatagram(kB, kB, destination, frame);
    ReceiveDecision decision = Receive(peers, from_b, bytes);
    REQUIRE(decision.action == ReceiveAction::kDeliver);
    CHECK(decision.learn);
    CHECK(decision.datagram.header.source == kB);
    CHECK(decision.datagram.payload.size() == kVirtioHeaderSize + frame.size());
    CHECK(decision.datagram.payload.data() == bytes.data() + kHeaderSize);
  }

  // From a known peer that does not forward: delivered (the switch is not simultaneous on both
  // ends), not learned.
  Bytes bytes_c = DataDatagram(kC, kC, kSelf, Frame(kMacLocal, kMacC));
  ReceiveDecision from_c = Receive(peers, Address("192.168.1.3"), bytes_c);
  CHECK(from_c.action == ReceiveAction::kDeliver);
  CHECK_FALSE(from_c.learn);
}

TEST_CASE("DecideReceive drops by reason", "[sleeve_forwarding]") {
  PeerSet peers({Peer(kB, "192.168.1.2", true)});
  const Bytes frame = Frame(kMacLocal, kMacB);
  const sockaddr_in from_b = Address("192.168.1.2");
  auto drop = [&](Bytes bytes, const sockaddr_in& from) {
    ReceiveDecision decision = Receive(peers, from, bytes);
    CHECK(decision.action == ReceiveAction::kDrop);
    return decision.drop;
  };

  Bytes garbage = {'h', 'e', 'l', 'l', 'o'};
  CHECK(drop(garbage, from_b) == ReceiveDrop::kMalformed);
  CHECK(Receive(peers, from_b, garbage).wire_error == WireError::kTooShort);
  CHECK(drop(DataDatagram(kStranger, kStranger, kSelf, frame), from_b) ==
        ReceiveDrop::kUnknownSender);
  CHECK(drop(DataDatagram(kB, kB, kSelf, frame), Address("192.168.1.99")) ==
        ReceiveDrop::kWrongAddress);
  CHECK(drop(DataDatagram(kB, kB, kC, frame), from_b) == ReceiveDrop::kNotForUs);
  CHECK(drop(DataDatagram(kB, kSelf, kBroadcastPeer, frame), from_b) == ReceiveDrop::kLoop);
  CHECK(drop(HeartbeatDatagram(kB, kC, 1), from_b) == ReceiveDrop::kNotForUs);
  CHECK(drop(HeartbeatDatagram(kB, kBroadcastPeer, 1), from_b) == ReceiveDrop::kNotForUs);
  CHECK(drop(HeartbeatDatagram(kB, kSelf, 1), Address("10.0.0.1")) == ReceiveDrop::kWrongAddress);

  sockaddr_in not_inet = from_b;
  not_inet.sin_family = AF_UNSPEC;
  CHECK(drop(DataDatagram(kB, kB, kSelf, frame), not_inet) == ReceiveDrop::kWrongAddress);

  for (int i = 0; i < kReceiveDropCount; ++i) {
    CHECK_FALSE(ReceiveDropText(static_cast<ReceiveDrop>(i)).empty());
  }
}

TEST_CASE("DecideReceive passes heartbeats on from forwarding peers or not",
          "[sleeve_forwarding]") {
  PeerSet peers({Peer(kB, "192.168.1.2", true), Peer(kC, "192.168.1.3", false)});
  Bytes bytes_b = HeartbeatDatagram(kB, kSelf, 77);
  ReceiveDecision b = Receive(peers, Address("192.168.1.2", 1), bytes_b);
  REQUIRE(b.action == ReceiveAction::kHeartbeat);
  CHECK(b.heartbeat_seq == 77);
  CHECK(b.datagram.header.sender == kB);
  Bytes bytes_c = HeartbeatDatagram(kC, kSelf, 78);
  ReceiveDecision c = Receive(peers, Address("192.168.1.3"), bytes_c);
  REQUIRE(c.action == ReceiveAction::kHeartbeat);
  CHECK(c.heartbeat_seq == 78);
}

// ---- Sealing ----

TEST_CASE("DecideReceive opens sealed datagrams from a peer with a key", "[sleeve_forwarding]") {
  const crypto::Key32 key = TestKey(1);
  PeerSet peers({KeyedPeer(kB, "192.168.1.2", true, key)});
  const sockaddr_in from_b = Address("192.168.1.2");
  const Bytes frame = Frame(kMacLocal, kMacB, 200);

  Bytes bytes = SealedData(key, DataHeader(kB, kB, kSelf, 7), frame);
  ReceiveDecision decision = Receive(peers, from_b, bytes);
  REQUIRE(decision.action == ReceiveAction::kDeliver);
  CHECK(decision.learn);
  CHECK(decision.datagram.header.flags == kFlagSealed);
  CHECK(Bytes(decision.datagram.payload.begin(), decision.datagram.payload.end()) ==
        DataPayload(frame));
  // Opened in place: the payload lies after the sealed prefix.
  CHECK(decision.datagram.payload.data() == bytes.data() + kSealedPrefixSize);

  Bytes heartbeat =
      ToBytes(EncodeSealedDatagram(key, HeartbeatHeader(kB, kSelf, 3), EncodeHeartbeat(0x55)));
  ReceiveDecision hb = Receive(peers, from_b, heartbeat);
  REQUIRE(hb.action == ReceiveAction::kHeartbeat);
  CHECK(hb.heartbeat_seq == 0x55);
}

TEST_CASE("DecideReceive drops what is not sealed as the peer's key says", "[sleeve_forwarding]") {
  const crypto::Key32 key = TestKey(1);
  PeerSet peers({KeyedPeer(kB, "192.168.1.2", true, key), Peer(kC, "192.168.1.3", true)});
  const sockaddr_in from_b = Address("192.168.1.2");
  const Bytes frame = Frame(kMacLocal, kMacB);
  auto drop = [&](Bytes bytes, const sockaddr_in& from) {
    ReceiveDecision decision = Receive(peers, from, bytes);
    CHECK(decision.action == ReceiveAction::kDrop);
    return decision.drop;
  };

  CHECK(drop(DataDatagram(kB, kB, kSelf, frame), from_b) == ReceiveDrop::kUnsealed);
  CHECK(drop(HeartbeatDatagram(kB, kSelf, 1), from_b) == ReceiveDrop::kUnsealed);
  CHECK(drop(SealedData(TestKey(2), DataHeader(kB, kB, kSelf), frame), from_b) ==
        ReceiveDrop::kBadSeal);
  // C has no key: its sealed datagrams cannot be checked.
  CHECK(drop(SealedData(key, DataHeader(kC, kC, kSelf), frame), Address("192.168.1.3")) ==
        ReceiveDrop::kUnexpectedSeal);

  // Any changed byte of the sealed datagram: rejected (by the decoder, by the sender or address
  // checks, or by the seal), never delivered.
  const Bytes good = SealedData(key, DataHeader(kB, kB, kSelf, 9), frame);
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80}) {
      Bytes tampered = good;
      tampered[i] ^= flip;
      INFO("byte " << i << " ^ " << int{flip});
      const ReceiveDrop reason = drop(tampered, from_b);
      if (i >= kHeaderSize) CHECK(reason == ReceiveDrop::kBadSeal);
    }
  }
  // The sealed header copy is checked against the clear one: the same box under another clear
  // destination does not open as that (the nonce holds only the sender, type and counter).
  Bytes redirected = good;
  const std::array<uint8_t, kHeaderSize> broadcast =
      EncodeHeader(Header{.flags = kFlagSealed,
                          .sender = kB,
                          .source = kB,
                          .destination = kBroadcastPeer,
                          .counter = 9});
  std::copy(broadcast.begin(), broadcast.end(), redirected.begin());
  ReceiveDecision decision = Receive(peers, from_b, redirected);
  CHECK(decision.drop == ReceiveDrop::kBadSeal);
  CHECK(decision.wire_error == WireError::kBadSeal);
  // Truncated.
  CHECK(drop(Bytes(good.begin(), good.begin() + kHeaderSize + kSealedOverhead - 1), from_b) ==
        ReceiveDrop::kMalformed);
  CHECK(drop(Bytes(good.begin(), good.end() - 1), from_b) == ReceiveDrop::kBadSeal);
}

TEST_CASE("DecideReceive accepts each counter once, in any order within the window",
          "[sleeve_forwarding]") {
  const crypto::Key32 key = TestKey(1);
  PeerSet peers({KeyedPeer(kB, "192.168.1.2", true, key)});
  const sockaddr_in from_b = Address("192.168.1.2");
  const Bytes frame = Frame(kMacLocal, kMacB);
  ReplayState replay;
  auto receive = [&](const Header& header) {
    Bytes bytes = header.type == MessageType::kData
                      ? SealedData(key, header, frame)
                      : ToBytes(EncodeSealedDatagram(key, header, EncodeHeartbeat(1)));
    ReceiveDecision decision = Receive(peers, from_b, bytes, &replay);
    return decision.action == ReceiveAction::kDrop ? decision.drop : ReceiveDrop::kNone;
  };

  CHECK(receive(DataHeader(kB, kB, kSelf, 10)) == ReceiveDrop::kNone);
  CHECK(receive(DataHeader(kB, kB, kSelf, 10)) == ReceiveDrop::kReplayed);
  CHECK(receive(DataHeader(kB, kB, kSelf, 12)) == ReceiveDrop::kNone);
  CHECK(receive(DataHeader(kB, kB, kSelf, 11)) == ReceiveDrop::kNone);
  CHECK(receive(DataHeader(kB, kB, kSelf, 11)) == ReceiveDrop::kReplayed);
  CHECK(receive(DataHeader(kB, kB, kSelf, 0)) == ReceiveDrop::kNone);
  // Heartbeats count apart: the same low bits are not a replay of data.
  CHECK(receive(HeartbeatHeader(kB, kSelf, 10)) == ReceiveDrop::kNone);
  CHECK(receive(HeartbeatHeader(kB, kSelf, 10)) == ReceiveDrop::kReplayed);
  CHECK(replay.size() == 1);

  // A forged datagram far ahead does not move the window.
  Bytes forged = SealedData(TestKey(2), DataHeader(kB, kB, kSelf, 1'000'000), frame);
  CHECK(Receive(peers, from_b, forged, &replay).drop == ReceiveDrop::kBadSeal);
  CHECK(receive(DataHeader(kB, kB, kSelf, 13)) == ReceiveDrop::kNone);

  // An authentic datagram with a malformed payload spends its counter.
  Bytes runt = ToBytes(EncodeSealedDatagram(key, DataHeader(kB, kB, kSelf, 14), Bytes(12)));
  ReceiveDecision malformed = Receive(peers, from_b, runt, &replay);
  CHECK(malformed.drop == ReceiveDrop::kMalformed);
  CHECK(malformed.wire_error == WireError::kFrameTooShort);
  CHECK(receive(DataHeader(kB, kB, kSelf, 14)) == ReceiveDrop::kReplayed);

  // Far behind the window: rejected though never seen.
  CHECK(receive(DataHeader(kB, kB, kSelf, 5000)) == ReceiveDrop::kNone);
  CHECK(receive(DataHeader(kB, kB, kSelf, 1)) == ReceiveDrop::kReplayed);

  // A new key (a new mesh connection) starts a new window; the old key no longer opens.
  PeerSet rekeyed({KeyedPeer(kB, "192.168.1.2", true, TestKey(3))});
  Bytes fresh = SealedData(TestKey(3), DataHeader(kB, kB, kSelf, 10), frame);
  CHECK(Receive(rekeyed, from_b, fresh, &replay).action == ReceiveAction::kDeliver);
  Bytes stale = SealedData(key, DataHeader(kB, kB, kSelf, 6000), frame);
  CHECK(Receive(rekeyed, from_b, stale, &replay).drop == ReceiveDrop::kBadSeal);

  // Pruning keeps keyed direct peers only.
  replay.Prune(rekeyed);
  CHECK(replay.size() == 1);
  replay.Prune(PeerSet({Peer(kB, "192.168.1.2", true)}));
  CHECK(replay.size() == 0);
}

// ---- Relaying ----

TEST_CASE("PeerSet: relayed peers are reached through their via", "[sleeve_forwarding]") {
  const PeerName kD(0x0d0000000005ULL), kE(0x0e0000000006ULL), kF(0x0f0000000007ULL);
  PeerSet peers({Peer(kB, "192.168.1.2", true), Peer(kC, "192.168.1.3", false),
                 RelayedPeer(kD, kC, true), RelayedPeer(kE, kD, true),  // Via a relayed peer.
                 RelayedPeer(kF, kStranger, true), RelayedPeer(kStranger, kB, false)});
  CHECK(peers.NextHop(*peers.Find(kB)) == peers.Find(kB));
  CHECK(peers.NextHop(*peers.Find(kD)) == peers.Find(kC));
  CHECK(peers.NextHop(*peers.Find(kStranger)) == peers.Find(kB));
  CHECK(peers.NextHop(*peers.Find(kE)) == nullptr);
  CHECK(peers.NextHop(*peers.Find(kF)) == nullptr);
  CHECK(peers.forwarding().size() == 4);  // B, D, E, F.

  // Flood: B as a broadcast (C does not forward), D as a unicast through C. E and F are
  // unreachable; the stranger does not forward.
  REQUIRE(peers.flood().size() == 2);
  CHECK(peers.flood()[0].next_hop == peers.Find(kB));
  CHECK(peers.flood()[0].destination == kBroadcastPeer);
  CHECK(peers.flood()[1].next_hop == peers.Find(kC));
  CHECK(peers.flood()[1].destination == kD);
}

TEST_CASE("DecideSend: a MAC of a relayed peer goes to its via", "[sleeve_forwarding]") {
  PeerSet peers({Peer(kB, "192.168.1.2", true), RelayedPeer(kC, kB, true),
                 RelayedPeer(kStranger, PeerName(0x0e0000000009ULL), true)});
  MacTable macs;
  macs.Learn(kMacC, kC, kNow);
  macs.Learn(0x02000000dd01ULL, kStranger, kNow);
  SendDecision to_c = DecideSend(peers, macs, Frame(kMacC, kMacLocal), kNow);
  REQUIRE(to_c.action == SendAction::kUnicast);
  CHECK(to_c.route.next_hop == peers.Find(kB));
  CHECK(to_c.route.destination == kC);
  // Unreachable: flooded.
  CHECK(DecideSend(peers, macs, Frame(0x02000000dd01ULL, kMacLocal), kNow).action ==
        SendAction::kFlood);

  // A relayed forwarding peer alone is somewhere to flood to.
  PeerSet relayed_only({Peer(kB, "192.168.1.2", false), RelayedPeer(kC, kB, true)});
  CHECK(DecideSend(relayed_only, macs, Frame(0xffffffffffffULL, kMacLocal), kNow).action ==
        SendAction::kFlood);
  REQUIRE(relayed_only.flood().size() == 1);
  CHECK(relayed_only.flood()[0].destination == kC);
}

TEST_CASE("DecideReceive relays data for another peer one hop on", "[sleeve_forwarding]") {
  // We are the middle of A - self - C, with keys on both links; D is reached through C.
  const PeerName kA(0x0a00000000aaULL), kD(0x0d0000000005ULL);
  const crypto::Key32 key_a = TestKey(1), key_c = TestKey(2);
  PeerSet peers({KeyedPeer(kA, "192.168.1.1", true, key_a),
                 KeyedPeer(kC, "192.168.1.3", true, key_c), RelayedPeer(kD, kC, true),
                 RelayedPeer(kB, kA, true)});
  const sockaddr_in from_a = Address("192.168.1.1");
  const Bytes frame = Frame(kMacC, kMacB);
  uint64_t counter = 0;
  auto from = [&](PeerName source, PeerName destination, uint8_t hop_limit = kDefaultHopLimit) {
    Header header = DataHeader(kA, source, destination, counter++);
    header.hop_limit = hop_limit;
    return SealedData(key_a, header, frame);
  };

  Bytes to_c = from(kB, kC);
  ReceiveDecision relay = Receive(peers, from_a, to_c);
  REQUIRE(relay.action == ReceiveAction::kRelay);
  CHECK(relay.next_hop == peers.Find(kC));
  CHECK(relay.datagram.header.source == kB);
  CHECK(relay.datagram.header.destination == kC);
  CHECK(relay.datagram.header.hop_limit == kDefaultHopLimit);
  CHECK(Bytes(relay.datagram.payload.begin(), relay.datagram.payload.end()) ==
        DataPayload(frame));  // Opened, ready to be resealed for C.
  CHECK_FALSE(relay.learn);

  Bytes to_d = from(kA, kD);
  ReceiveDecision via_c = Receive(peers, from_a, to_d);
  REQUIRE(via_c.action == ReceiveAction::kRelay);
  CHECK(via_c.next_hop == peers.Find(kC));

  auto drop = [&](Bytes bytes) {
    ReceiveDecision decision = Receive(peers, from_a, bytes);
    CHECK(decision.action == ReceiveAction::kDrop);
    return decision.drop;
  };
  CHECK(drop(from(kA, kC, 1)) == ReceiveDrop::kHopLimit);
  CHECK(from(kA, kC, 2).size() > 0);
  Bytes two_hops = from(kA, kC, 2);
  CHECK(Receive(peers, from_a, two_hops).action == ReceiveAction::kRelay);
  // B is reached through A, where this came from.
  CHECK(drop(from(kC, kB)) == ReceiveDrop::kNoRoute);
  CHECK(drop(from(kA, kStranger)) == ReceiveDrop::kNotForUs);
  CHECK(drop(from(kSelf, kC)) == ReceiveDrop::kLoop);

  // Broadcasts are delivered, never relayed; a relayed source's MAC is learned for it.
  Bytes broadcast = from(kB, kBroadcastPeer);
  ReceiveDecision delivered = Receive(peers, from_a, broadcast);
  CHECK(delivered.action == ReceiveAction::kDeliver);
  CHECK(delivered.learn);
  CHECK(delivered.datagram.header.source == kB);

  // Nobody may send as a relayed peer: it has no address of its own.
  Bytes as_b = SealedData(key_a, DataHeader(kB, kB, kSelf), frame);
  CHECK(drop(as_b) == ReceiveDrop::kUnknownSender);
}

}  // namespace
}  // namespace weave::overlay
