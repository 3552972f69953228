#include "router/overlay/sleeve_wire.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace weave::overlay {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes ToBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

absl::Span<const uint8_t> Span(const Bytes& bytes) { return absl::MakeConstSpan(bytes); }

const PeerName kA(0x0a0000000001ULL);
const PeerName kB(0x0b0000000002ULL);

Header DataHeader() {
  return Header{.type = MessageType::kData,
                .sender = kA,
                .source = kA,
                .destination = kB,
                .counter = 0x0102030405060708ULL};
}

// A virtio header and a minimal IPv4/TCP-looking frame of `frame_size` bytes.
Bytes MakePayload(const VirtioHeader& virtio, size_t frame_size) {
  std::array<uint8_t, kVirtioHeaderSize> encoded = EncodeVirtioHeader(virtio);
  Bytes payload(encoded.begin(), encoded.end());
  for (size_t i = 0; i < frame_size; ++i) payload.push_back(static_cast<uint8_t>(i));
  return payload;
}

Bytes MakeDatagram(const Header& header, const Bytes& payload) {
  return ToBytes(EncodeDatagram(header, Span(payload)));
}

WireError Decode(const Bytes& bytes, Datagram* out = nullptr) {
  Datagram ignored;
  return DecodeDatagram(Span(bytes), out != nullptr ? out : &ignored);
}

TEST_CASE("The header is laid out as documented", "[sleeve_wire]") {
  std::array<uint8_t, kHeaderSize> header = EncodeHeader(DataHeader());
  const Bytes expected = {0x57, 1, 1, 0, 8, 0,         // magic..reserved
                          0x0a, 0, 0, 0, 0, 1,         // sender
                          0x0a, 0, 0, 0, 0, 1,         // source
                          0x0b, 0, 0, 0, 0, 2,         // destination
                          1,    2, 3, 4, 5, 6, 7, 8};  // counter
  CHECK(Bytes(header.begin(), header.end()) == expected);
}

TEST_CASE("A data datagram round-trips", "[sleeve_wire]") {
  const VirtioHeader virtio{.flags = kVirtioNeedsCsum,
                            .gso_type = kGsoTcpV4,
                            .hdr_len = 66,
                            .gso_size = 1324,
                            .csum_start = 34,
                            .csum_offset = 16};
  const Bytes payload = MakePayload(virtio, 3000);
  const Bytes bytes = MakeDatagram(DataHeader(), payload);
  CHECK(bytes.size() == kHeaderSize + kVirtioHeaderSize + 3000);

  Datagram decoded;
  REQUIRE(Decode(bytes, &decoded) == WireError::kOk);
  CHECK(decoded.header == DataHeader());
  CHECK(Bytes(decoded.payload.begin(), decoded.payload.end()) == payload);
  DataPayload data = SplitData(decoded.payload);
  CHECK(data.virtio == virtio);
  CHECK(data.frame.size() == 3000);
  CHECK(data.frame.data() == bytes.data() + kHeaderSize + kVirtioHeaderSize);
}

TEST_CASE("The virtio header is little-endian as the TAP has it", "[sleeve_wire]") {
  std::array<uint8_t, kVirtioHeaderSize> encoded = EncodeVirtioHeader({.flags = 1,
                                                                       .gso_type = 4,
                                                                       .hdr_len = 0x0102,
                                                                       .gso_size = 0x0304,
                                                                       .csum_start = 0x0506,
                                                                       .csum_offset = 0x0708});
  CHECK(Bytes(encoded.begin(), encoded.end()) == Bytes{1, 4, 2, 1, 4, 3, 6, 5, 8, 7});
}

TEST_CASE("A heartbeat round-trips and must be exactly 8 bytes", "[sleeve_wire]") {
  Header header = DataHeader();
  header.type = MessageType::kHeartbeat;
  header.counter = kHeartbeatCounterBit | 5;
  std::array<uint8_t, kHeartbeatPayloadSize> seq = EncodeHeartbeat(0x1122334455667788ULL);
  CHECK(Bytes(seq.begin(), seq.end()) == Bytes{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88});

  Bytes bytes = MakeDatagram(header, Bytes(seq.begin(), seq.end()));
  Datagram decoded;
  REQUIRE(Decode(bytes, &decoded) == WireError::kOk);
  CHECK(decoded.header == header);
  uint64_t value = 0;
  REQUIRE(DecodeHeartbeat(decoded.payload, &value) == WireError::kOk);
  CHECK(value == 0x1122334455667788ULL);

  CHECK(Decode(MakeDatagram(header, Bytes(7))) == WireError::kBadHeartbeatLength);
  CHECK(Decode(MakeDatagram(header, Bytes(9))) == WireError::kBadHeartbeatLength);
  CHECK(Decode(MakeDatagram(header, Bytes())) == WireError::kBadHeartbeatLength);
}

TEST_CASE("Each header field is checked", "[sleeve_wire]") {
  const Bytes good = MakeDatagram(DataHeader(), MakePayload({}, 60));
  REQUIRE(Decode(good) == WireError::kOk);
  auto with = [&](size_t offset, uint8_t value) {
    Bytes bytes = good;
    bytes[offset] = value;
    return Decode(bytes);
  };
  CHECK(with(0, 0x58) == WireError::kBadMagic);
  CHECK(with(1, 2) == WireError::kUnsupportedVersion);
  CHECK(with(1, 0) == WireError::kUnsupportedVersion);
  CHECK(with(2, 0) == WireError::kUnknownType);
  CHECK(with(2, 3) == WireError::kUnknownType);
  CHECK(with(3, 0x02) == WireError::kUnknownFlags);
  CHECK(with(3, 0x80) == WireError::kUnknownFlags);
  CHECK(with(3, kFlagSealed | 0x02) == WireError::kUnknownFlags);
  CHECK(with(3, kFlagSealed) == WireError::kOk);  // The payload is then taken for a sealed box.
  CHECK(with(4, 0) == WireError::kZeroHopLimit);
  CHECK(with(4, 1) == WireError::kOk);
  CHECK(with(5, 1) == WireError::kReservedNotZero);

  auto with_peers = [&](PeerName sender, PeerName source, PeerName destination) {
    Header header = DataHeader();
    header.sender = sender;
    header.source = source;
    header.destination = destination;
    return Decode(MakeDatagram(header, MakePayload({}, 60)));
  };
  CHECK(with_peers(PeerName(0), kA, kB) == WireError::kBadSender);
  CHECK(with_peers(kBroadcastPeer, kA, kB) == WireError::kBadSender);
  CHECK(with_peers(kA, PeerName(0), kB) == WireError::kBadSource);
  CHECK(with_peers(kA, kBroadcastPeer, kB) == WireError::kBadSource);
  CHECK(with_peers(kA, kA, PeerName(0)) == WireError::kBadDestination);
  CHECK(with_peers(kA, kB, kBroadcastPeer) == WireError::kOk);
}

TEST_CASE("Size limits", "[sleeve_wire]") {
  CHECK(kMaxFrameSize == 65465);
  CHECK(Decode(Bytes()) == WireError::kTooShort);
  CHECK(Decode(Bytes(kHeaderSize - 1, 0x57)) == WireError::kTooShort);
  // The smallest data: a virtio header and an Ethernet header.
  CHECK(Decode(MakeDatagram(DataHeader(), MakePayload({}, kEthernetHeaderSize))) == WireError::kOk);
  CHECK(Decode(MakeDatagram(DataHeader(), MakePayload({}, kEthernetHeaderSize - 1))) ==
        WireError::kFrameTooShort);
  CHECK(Decode(MakeDatagram(DataHeader(), Bytes(kVirtioHeaderSize))) == WireError::kFrameTooShort);
  CHECK(Decode(MakeDatagram(DataHeader(), MakePayload({}, kMaxFrameSize))) == WireError::kOk);
  CHECK(Decode(MakeDatagram(DataHeader(), MakePayload({}, kMaxFrameSize + 1))) ==
        WireError::kTooLong);
}

TEST_CASE("ValidateVirtioHeader keeps offsets inside the frame", "[sleeve_wire]") {
  CHECK(ValidateVirtioHeader({}, 60) == WireError::kOk);
  CHECK(ValidateVirtioHeader({.flags = kVirtioDataValid}, 60) == WireError::kOk);
  CHECK(ValidateVirtioHeader({.flags = 4}, 60) == WireError::kBadVirtioFlags);
  CHECK(ValidateVirtioHeader({.flags = 0x80}, 60) == WireError::kBadVirtioFlags);

  // GSO types, with a size.
  for (uint8_t type : {kGsoTcpV4, kGsoTcpV6, kGsoUdpL4}) {
    INFO("gso_type " << int{type});
    CHECK(ValidateVirtioHeader({.gso_type = type, .gso_size = 1400}, 60) == WireError::kOk);
    CHECK(ValidateVirtioHeader({.gso_type = type}, 60) == WireError::kBadGsoSize);
  }
  CHECK(ValidateVirtioHeader({.gso_type = kGsoTcpV4 | kGsoEcn, .gso_size = 1}, 60) ==
        WireError::kOk);
  CHECK(ValidateVirtioHeader({.gso_type = kGsoEcn}, 60) == WireError::kBadGsoType);
  CHECK(ValidateVirtioHeader({.gso_type = kGsoUdpL4 | kGsoEcn, .gso_size = 1}, 60) ==
        WireError::kBadGsoType);
  CHECK(ValidateVirtioHeader({.gso_type = 3, .gso_size = 1}, 60) == WireError::kBadGsoType);  // UFO
  for (int type = 6; type < 0x80; ++type) {
    CHECK(ValidateVirtioHeader({.gso_type = static_cast<uint8_t>(type), .gso_size = 1}, 60) ==
          WireError::kBadGsoType);
  }

  CHECK(ValidateVirtioHeader({.hdr_len = 60}, 60) == WireError::kOk);
  CHECK(ValidateVirtioHeader({.hdr_len = 61}, 60) == WireError::kBadHeaderLength);

  // Checksum at csum_start + csum_offset, 2 bytes: the last position is frame_size - 2.
  CHECK(ValidateVirtioHeader({.flags = kVirtioNeedsCsum, .csum_start = 34, .csum_offset = 24},
                             60) == WireError::kOk);
  CHECK(ValidateVirtioHeader({.flags = kVirtioNeedsCsum, .csum_start = 34, .csum_offset = 25},
                             60) == WireError::kBadChecksumOffset);
  CHECK(ValidateVirtioHeader(
            {.flags = kVirtioNeedsCsum, .csum_start = 0xffff, .csum_offset = 0xffff}, 60) ==
        WireError::kBadChecksumOffset);
  // Without NEEDS_CSUM the offsets mean nothing.
  CHECK(ValidateVirtioHeader({.csum_start = 0xffff, .csum_offset = 0xffff}, 60) == WireError::kOk);

  // Through DecodeDatagram too.
  CHECK(Decode(MakeDatagram(DataHeader(), MakePayload({.hdr_len = 61}, 60))) ==
        WireError::kBadHeaderLength);
}

TEST_CASE("Every error has its own text", "[sleeve_wire]") {
  std::set<std::string> texts;
  for (int i = 0; i < kWireErrorCount; ++i) {
    texts.insert(std::string(WireErrorText(static_cast<WireError>(i))));
  }
  CHECK(texts.size() == kWireErrorCount);
}

// Random, truncated and bit-flipped inputs decode to a result, never a crash or a read outside
// the input (each input lives in its own exactly sized heap block, so ASan or valgrind would
// catch an overread; without them, the checks below still hold).
TEST_CASE("Random and mutated inputs never crash the decoder", "[sleeve_wire]") {
  std::mt19937_64 random(42);
  auto check = [](const Bytes& input) {
    auto owned = std::make_unique<uint8_t[]>(input.size() + 1);
    std::copy(input.begin(), input.end(), owned.get());
    Datagram datagram;
    WireError error = DecodeDatagram(absl::MakeConstSpan(owned.get(), input.size()), &datagram);
    if (error == WireError::kOk) {
      REQUIRE(datagram.payload.data() >= owned.get());
      REQUIRE(datagram.payload.data() + datagram.payload.size() <= owned.get() + input.size());
      if (datagram.header.type == MessageType::kData &&
          (datagram.header.flags & kFlagSealed) == 0) {
        DataPayload data = SplitData(datagram.payload);
        REQUIRE(data.virtio.hdr_len <= data.frame.size());
      }
    }
    return error;
  };

  // Pure noise: almost always rejected by the magic byte.
  for (int i = 0; i < 2000; ++i) {
    Bytes input(random() % 200);
    for (uint8_t& b : input) b = static_cast<uint8_t>(random());
    (void)check(input);
  }

  // Valid datagrams, truncated at every length and with random bytes flipped.
  Header heartbeat = DataHeader();
  heartbeat.type = MessageType::kHeartbeat;
  std::array<uint8_t, kHeartbeatPayloadSize> seq = EncodeHeartbeat(7);
  const std::vector<Bytes> seeds = {
      MakeDatagram(DataHeader(), MakePayload({.flags = kVirtioNeedsCsum,
                                              .gso_type = kGsoTcpV4,
                                              .hdr_len = 54,
                                              .gso_size = 1324,
                                              .csum_start = 34,
                                              .csum_offset = 16},
                                             120)),
      MakeDatagram(heartbeat, Bytes(seq.begin(), seq.end())),
  };
  int accepted = 0;
  for (const Bytes& seed : seeds) {
    for (size_t length = 0; length <= seed.size(); ++length) {
      WireError error = check(Bytes(seed.begin(), seed.begin() + length));
      if (length < seed.size() && seed[2] == 2) CHECK(error != WireError::kOk);
    }
    for (int i = 0; i < 20000; ++i) {
      Bytes input = seed;
      const int flips = 1 + random() % 4;
      for (int f = 0; f < flips; ++f)
        input[random() % input.size()] = static_cast<uint8_t>(random());
      if (check(input) == WireError::kOk) ++accepted;
    }
  }
  // Flips in the frame body or counter are fine, so some mutants stay valid.
  CHECK(accepted > 0);
}

// ---- Sealed datagrams ----

crypto::Key32 TestKey(uint8_t value) {
  crypto::Key32 key;
  key.fill(value);
  return key;
}

// Decodes and opens `bytes` in place with `key`.
WireError Open(const crypto::Key32& key, Bytes& bytes, Datagram* out) {
  WireError error = DecodeDatagram(Span(bytes), out);
  if (error != WireError::kOk) return error;
  if ((out->header.flags & kFlagSealed) == 0) return WireError::kOk;
  return OpenDatagram(key, absl::MakeSpan(bytes), out);
}

TEST_CASE("A sealed datagram is laid out as documented", "[sleeve_wire]") {
  const crypto::Key32 key = TestKey(3);
  const Bytes payload = MakePayload({}, 100);
  const Bytes bytes = ToBytes(EncodeSealedDatagram(key, DataHeader(), Span(payload)));
  REQUIRE(bytes.size() == kSealedPrefixSize + payload.size());
  CHECK(kSealedOverhead == 48);

  // The clear header, with the sealed flag.
  Header sealed_header = DataHeader();
  sealed_header.flags = kFlagSealed;
  const std::array<uint8_t, kHeaderSize> header = EncodeHeader(sealed_header);
  CHECK(Bytes(bytes.begin(), bytes.begin() + kHeaderSize) == Bytes(header.begin(), header.end()));
  CHECK(bytes[3] == 0x01);

  // Nonce: sender, type, zeros, counter.
  const crypto::Nonce24 nonce = SealNonce(DataHeader());
  const Bytes expected_nonce = {0x0a, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0,
                                0,    0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
  CHECK(Bytes(nonce.begin(), nonce.end()) == expected_nonce);

  // Tag at 32, then the box of the header's copy and the payload.
  Bytes inner(bytes.begin() + kHeaderSize + kSealTagSize, bytes.end());
  REQUIRE(crypto::OpenInPlace(key, nonce, inner.data(), inner.size(), bytes.data() + kHeaderSize));
  CHECK(Bytes(inner.begin(), inner.begin() + kHeaderSize) == Bytes(header.begin(), header.end()));
  CHECK(Bytes(inner.begin() + kHeaderSize, inner.end()) == payload);
}

TEST_CASE("Sealed data and heartbeats round-trip", "[sleeve_wire]") {
  const crypto::Key32 key = TestKey(3);
  const VirtioHeader virtio{.flags = kVirtioNeedsCsum,
                            .gso_type = kGsoTcpV4,
                            .hdr_len = 66,
                            .gso_size = 1324,
                            .csum_start = 34,
                            .csum_offset = 16};
  const Bytes payload = MakePayload(virtio, 3000);
  Bytes bytes = ToBytes(EncodeSealedDatagram(key, DataHeader(), Span(payload)));
  // The payload is not in the clear.
  CHECK(std::search(bytes.begin(), bytes.end(), payload.begin() + 20, payload.begin() + 60) ==
        bytes.end());
  Datagram decoded;
  REQUIRE(Open(key, bytes, &decoded) == WireError::kOk);
  Header expected = DataHeader();
  expected.flags = kFlagSealed;
  CHECK(decoded.header == expected);
  CHECK(Bytes(decoded.payload.begin(), decoded.payload.end()) == payload);
  CHECK(decoded.payload.data() == bytes.data() + kSealedPrefixSize);
  CHECK(SplitData(decoded.payload).virtio == virtio);

  Header heartbeat = DataHeader();
  heartbeat.type = MessageType::kHeartbeat;
  heartbeat.counter = kHeartbeatCounterBit | 5;
  Bytes hb = ToBytes(EncodeSealedDatagram(key, heartbeat, EncodeHeartbeat(99)));
  REQUIRE(Open(key, hb, &decoded) == WireError::kOk);
  uint64_t seq = 0;
  REQUIRE(DecodeHeartbeat(decoded.payload, &seq) == WireError::kOk);
  CHECK(seq == 99);
  // The nonce differs by type, and thus so does the box for the same counter.
  CHECK(SealNonce(heartbeat) != SealNonce(DataHeader()));

  // The payload's checks apply once opened.
  Bytes bad_virtio =
      ToBytes(EncodeSealedDatagram(key, DataHeader(), Span(MakePayload({.hdr_len = 61}, 60))));
  CHECK(Open(key, bad_virtio, &decoded) == WireError::kBadHeaderLength);
  Bytes bad_heartbeat = ToBytes(EncodeSealedDatagram(key, heartbeat, Span(Bytes(7))));
  CHECK(Open(key, bad_heartbeat, &decoded) == WireError::kBadHeartbeatLength);
}

TEST_CASE("Sealing in place and into a copy give the same datagram", "[sleeve_wire]") {
  const crypto::Key32 key = TestKey(4);
  const Bytes payload = MakePayload({}, 500);
  // The payload after room for the sealed prefix.
  Bytes plain(kSealedPrefixSize + payload.size(), 0xee);
  for (size_t i = 0; i < payload.size(); ++i) plain[kSealedPrefixSize + i] = payload[i];

  Bytes in_place = plain;
  CHECK(SealDatagram(key, DataHeader(), in_place.data() + kSealedPrefixSize, payload.size(),
                     in_place.data()) == in_place.size());
  Bytes source = plain;
  Bytes copy(plain.size());
  CHECK(SealDatagram(key, DataHeader(), source.data() + kSealedPrefixSize, payload.size(),
                     copy.data()) == copy.size());
  CHECK(copy == in_place);
  CHECK(Bytes(source.begin() + kSealedPrefixSize, source.end()) == payload);  // Left as it was.
  CHECK(ToBytes(EncodeSealedDatagram(key, DataHeader(), Span(payload))) == in_place);
}

TEST_CASE("A sealed datagram does not open when anything changed", "[sleeve_wire]") {
  const crypto::Key32 key = TestKey(5);
  const Bytes good = ToBytes(EncodeSealedDatagram(key, DataHeader(), Span(MakePayload({}, 60))));
  Datagram decoded;
  {
    Bytes other_key = good;
    CHECK(Open(TestKey(6), other_key, &decoded) == WireError::kBadSeal);
  }
  // Every byte: the header's (decoder errors for some, the seal for the rest: the nonce or the
  // sealed copy no longer matches), the tag's, the box's.
  for (size_t i = 0; i < good.size(); ++i) {
    Bytes tampered = good;
    tampered[i] ^= 0x04;
    INFO("byte " << i);
    const WireError error = Open(key, tampered, &decoded);
    CHECK(error != WireError::kOk);
    if (i == 4 || i >= 12) CHECK(error == WireError::kBadSeal);  // Hop limit, source, ... box.
  }
  // Truncation.
  Bytes short_box(good.begin(), good.begin() + kHeaderSize + kSealedOverhead - 1);
  CHECK(Open(key, short_box, &decoded) == WireError::kSealedTooShort);
  Bytes no_payload(good.begin(), good.begin() + kHeaderSize + kSealedOverhead);
  CHECK(Open(key, no_payload, &decoded) == WireError::kBadSeal);
  Bytes one_less(good.begin(), good.end() - 1);
  CHECK(Open(key, one_less, &decoded) == WireError::kBadSeal);
  // The same box under an unsealed header is only the bytes of a plain datagram.
  Bytes unsealed = good;
  unsealed[3] = 0;
  CHECK(Open(key, unsealed, &decoded) != WireError::kOk);
}

TEST_CASE("The largest sealed frame fits a datagram", "[sleeve_wire]") {
  const crypto::Key32 key = TestKey(7);
  Bytes bytes =
      ToBytes(EncodeSealedDatagram(key, DataHeader(), Span(MakePayload({}, kMaxSealedFrameSize))));
  CHECK(bytes.size() == kMaxDatagramSize);
  Datagram decoded;
  CHECK(Open(key, bytes, &decoded) == WireError::kOk);
}

}  // namespace
}  // namespace weave::overlay
