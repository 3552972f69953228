#include "router/overlay/sleeve_forwarding.h"

#include <arpa/inet.h>

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

// An Ethernet frame to `destination` from `source` (MACs as integers) with some payload.
Bytes Frame(uint64_t destination, uint64_t source, size_t size = 60) {
  Bytes frame(size, 0x11);
  for (int i = 0; i < 6; ++i) {
    frame[i] = static_cast<uint8_t>(destination >> (40 - 8 * i));
    frame[6 + i] = static_cast<uint8_t>(source >> (40 - 8 * i));
  }
  return frame;
}

Bytes DataDatagram(PeerName sender, PeerName source, PeerName destination, const Bytes& frame) {
  std::array<uint8_t, kVirtioHeaderSize> virtio = EncodeVirtioHeader({});
  Bytes payload(virtio.begin(), virtio.end());
  payload.insert(payload.end(), frame.begin(), frame.end());
  std::string bytes = EncodeDatagram(
      Header{.sender = sender, .source = source, .destination = destination}, payload);
  return Bytes(bytes.begin(), bytes.end());
}

Bytes HeartbeatDatagram(PeerName sender, PeerName destination, uint64_t seq) {
  std::array<uint8_t, kHeartbeatPayloadSize> payload = EncodeHeartbeat(seq);
  std::string bytes = EncodeDatagram(Header{.type = MessageType::kHeartbeat,
                                            .sender = sender,
                                            .source = sender,
                                            .destination = destination},
                                     payload);
  return Bytes(bytes.begin(), bytes.end());
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
  CHECK(unicast.peer == peers.Find(kB));

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
    ReceiveDecision decision = DecideReceive(kSelf, peers, from_b, bytes);
    REQUIRE(decision.action == ReceiveAction::kDeliver);
    CHECK(decision.learn);
    CHECK(decision.datagram.header.source == kB);
    CHECK(decision.datagram.payload.size() == kVirtioHeaderSize + frame.size());
    CHECK(decision.datagram.payload.data() == bytes.data() + kHeaderSize);
  }

  // From a known peer that does not forward: delivered (the switch is not simultaneous on both
  // ends), not learned.
  ReceiveDecision from_c = DecideReceive(kSelf, peers, Address("192.168.1.3"),
                                         DataDatagram(kC, kC, kSelf, Frame(kMacLocal, kMacC)));
  CHECK(from_c.action == ReceiveAction::kDeliver);
  CHECK_FALSE(from_c.learn);
}

TEST_CASE("DecideReceive drops by reason", "[sleeve_forwarding]") {
  PeerSet peers({Peer(kB, "192.168.1.2", true)});
  const Bytes frame = Frame(kMacLocal, kMacB);
  const sockaddr_in from_b = Address("192.168.1.2");
  auto drop = [&](const Bytes& bytes, const sockaddr_in& from) {
    ReceiveDecision decision = DecideReceive(kSelf, peers, from, bytes);
    CHECK(decision.action == ReceiveAction::kDrop);
    return decision.drop;
  };

  Bytes garbage = {'h', 'e', 'l', 'l', 'o'};
  CHECK(drop(garbage, from_b) == ReceiveDrop::kMalformed);
  CHECK(DecideReceive(kSelf, peers, from_b, garbage).wire_error == WireError::kTooShort);
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
  ReceiveDecision b =
      DecideReceive(kSelf, peers, Address("192.168.1.2", 1), HeartbeatDatagram(kB, kSelf, 77));
  REQUIRE(b.action == ReceiveAction::kHeartbeat);
  CHECK(b.heartbeat_seq == 77);
  CHECK(b.datagram.header.sender == kB);
  ReceiveDecision c =
      DecideReceive(kSelf, peers, Address("192.168.1.3"), HeartbeatDatagram(kC, kSelf, 78));
  REQUIRE(c.action == ReceiveAction::kHeartbeat);
  CHECK(c.heartbeat_seq == 78);
}

}  // namespace
}  // namespace weave::overlay
