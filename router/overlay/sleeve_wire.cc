#include "router/overlay/sleeve_wire.h"

#include <cstdlib>
#include <cstring>

namespace weave::overlay {
namespace {

uint64_t ReadBigEndian(const uint8_t* p, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | p[i];
  return value;
}

void WriteBigEndian(uint64_t value, int bytes, uint8_t* p) {
  for (int i = bytes - 1; i >= 0; --i) {
    p[i] = static_cast<uint8_t>(value);
    value >>= 8;
  }
}

uint16_t ReadLittle16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

void WriteLittle16(uint16_t value, uint8_t* p) {
  p[0] = static_cast<uint8_t>(value);
  p[1] = static_cast<uint8_t>(value >> 8);
}

bool IsPeer(PeerName name) { return name.value() != 0 && name != kBroadcastPeer; }

WireError DecodeHeader(absl::Span<const uint8_t> bytes, Header* out) {
  const uint8_t* p = bytes.data();
  if (p[0] != kMagic) return WireError::kBadMagic;
  if (p[1] != kVersion) return WireError::kUnsupportedVersion;
  if (p[2] != static_cast<uint8_t>(MessageType::kData) &&
      p[2] != static_cast<uint8_t>(MessageType::kHeartbeat)) {
    return WireError::kUnknownType;
  }
  if ((p[3] & ~kFlagSealed) != 0) return WireError::kUnknownFlags;
  if (p[4] == 0) return WireError::kZeroHopLimit;
  if (p[5] != 0) return WireError::kReservedNotZero;
  out->type = static_cast<MessageType>(p[2]);
  out->flags = p[3];
  out->hop_limit = p[4];
  out->sender = PeerName(ReadBigEndian(p + 6, 6));
  out->source = PeerName(ReadBigEndian(p + 12, 6));
  out->destination = PeerName(ReadBigEndian(p + 18, 6));
  out->counter = ReadBigEndian(p + 24, 8);
  if (!IsPeer(out->sender)) return WireError::kBadSender;
  if (!IsPeer(out->source)) return WireError::kBadSource;
  if (out->destination.value() == 0) return WireError::kBadDestination;
  return WireError::kOk;
}

// The payload's shape for its type (plaintext).
WireError CheckPayload(MessageType type, absl::Span<const uint8_t> payload) {
  if (type == MessageType::kHeartbeat) {
    uint64_t seq;
    return DecodeHeartbeat(payload, &seq);
  }
  if (payload.size() < kVirtioHeaderSize + kEthernetHeaderSize) return WireError::kFrameTooShort;
  DataPayload data = SplitData(payload);
  return ValidateVirtioHeader(data.virtio, data.frame.size());
}

}  // namespace

absl::string_view WireErrorText(WireError error) {
  switch (error) {
    case WireError::kOk:
      return "ok";
    case WireError::kTooShort:
      return "shorter than the sleeve header";
    case WireError::kTooLong:
      return "longer than the largest UDP payload";
    case WireError::kBadMagic:
      return "not a sleeve datagram (bad magic byte)";
    case WireError::kUnsupportedVersion:
      return "unsupported sleeve version";
    case WireError::kUnknownType:
      return "unknown message type";
    case WireError::kUnknownFlags:
      return "unknown flags";
    case WireError::kZeroHopLimit:
      return "hop limit 0";
    case WireError::kReservedNotZero:
      return "reserved byte not 0";
    case WireError::kBadSender:
      return "invalid sender peer name";
    case WireError::kBadSource:
      return "invalid source peer name";
    case WireError::kBadDestination:
      return "invalid destination peer name";
    case WireError::kBadHeartbeatLength:
      return "heartbeat payload is not 8 bytes";
    case WireError::kFrameTooShort:
      return "data shorter than a virtio and an Ethernet header";
    case WireError::kBadVirtioFlags:
      return "unknown virtio_net_hdr flags";
    case WireError::kBadGsoType:
      return "unknown virtio_net_hdr gso_type";
    case WireError::kBadGsoSize:
      return "virtio_net_hdr gso_size 0 on a GSO frame";
    case WireError::kBadHeaderLength:
      return "virtio_net_hdr hdr_len beyond the frame";
    case WireError::kBadChecksumOffset:
      return "virtio_net_hdr checksum offsets beyond the frame";
    case WireError::kSealedTooShort:
      return "sealed, but too short for the tag and the header's copy";
    case WireError::kBadSeal:
      return "does not open with the sender's key (wrong key, or tampered)";
  }
  return "unknown error";
}

std::array<uint8_t, kHeaderSize> EncodeHeader(const Header& header) {
  std::array<uint8_t, kHeaderSize> out{};
  out[0] = kMagic;
  out[1] = kVersion;
  out[2] = static_cast<uint8_t>(header.type);
  out[3] = header.flags;
  out[4] = header.hop_limit;
  out[5] = 0;
  WriteBigEndian(header.sender.value(), 6, &out[6]);
  WriteBigEndian(header.source.value(), 6, &out[12]);
  WriteBigEndian(header.destination.value(), 6, &out[18]);
  WriteBigEndian(header.counter, 8, &out[24]);
  return out;
}

WireError DecodeDatagram(absl::Span<const uint8_t> bytes, Datagram* out) {
  if (bytes.size() < kHeaderSize) return WireError::kTooShort;
  if (bytes.size() > kMaxDatagramSize) return WireError::kTooLong;
  if (WireError error = DecodeHeader(bytes, &out->header); error != WireError::kOk) return error;
  out->payload = bytes.subspan(kHeaderSize);
  if ((out->header.flags & kFlagSealed) != 0) {
    return out->payload.size() < kSealedOverhead ? WireError::kSealedTooShort : WireError::kOk;
  }
  return CheckPayload(out->header.type, out->payload);
}

crypto::Nonce24 SealNonce(const Header& header) {
  crypto::Nonce24 nonce{};
  WriteBigEndian(header.sender.value(), 6, &nonce[0]);
  nonce[6] = static_cast<uint8_t>(header.type);
  WriteBigEndian(header.counter, 8, &nonce[16]);
  return nonce;
}

WireError OpenDatagram(const crypto::Key32& key, absl::Span<uint8_t> bytes, Datagram* datagram) {
  // DecodeDatagram checked that the tag and the header's copy fit.
  uint8_t* tag = bytes.data() + kHeaderSize;
  uint8_t* sealed = tag + kSealTagSize;
  const size_t sealed_size = bytes.size() - kHeaderSize - kSealTagSize;
  if (!crypto::OpenInPlace(key, SealNonce(datagram->header), sealed, sealed_size, tag)) {
    return WireError::kBadSeal;
  }
  if (std::memcmp(sealed, bytes.data(), kHeaderSize) != 0) return WireError::kBadSeal;
  datagram->payload = absl::MakeConstSpan(sealed + kHeaderSize, sealed_size - kHeaderSize);
  return CheckPayload(datagram->header.type, datagram->payload);
}

size_t SealDatagram(const crypto::Key32& key, Header header, uint8_t* payload, size_t size,
                    uint8_t* out) {
  header.flags |= kFlagSealed;
  const std::array<uint8_t, kHeaderSize> encoded = EncodeHeader(header);
  uint8_t* plaintext = payload - kHeaderSize;  // The header's copy, then the payload.
  std::memcpy(plaintext, encoded.data(), kHeaderSize);
  crypto::SealDetached(key, SealNonce(header), plaintext, kHeaderSize + size,
                       out + kHeaderSize + kSealTagSize, out + kHeaderSize);
  std::memcpy(out, encoded.data(), kHeaderSize);
  return kSealedPrefixSize + size;
}

std::array<uint8_t, kHeartbeatPayloadSize> EncodeHeartbeat(uint64_t seq) {
  std::array<uint8_t, kHeartbeatPayloadSize> out{};
  WriteBigEndian(seq, 8, out.data());
  return out;
}

WireError DecodeHeartbeat(absl::Span<const uint8_t> payload, uint64_t* seq) {
  if (payload.size() != kHeartbeatPayloadSize) return WireError::kBadHeartbeatLength;
  *seq = ReadBigEndian(payload.data(), 8);
  return WireError::kOk;
}

VirtioHeader ParseVirtioHeader(absl::Span<const uint8_t> bytes) {
  if (bytes.size() < kVirtioHeaderSize) std::abort();
  const uint8_t* p = bytes.data();
  return VirtioHeader{.flags = p[0],
                      .gso_type = p[1],
                      .hdr_len = ReadLittle16(p + 2),
                      .gso_size = ReadLittle16(p + 4),
                      .csum_start = ReadLittle16(p + 6),
                      .csum_offset = ReadLittle16(p + 8)};
}

std::array<uint8_t, kVirtioHeaderSize> EncodeVirtioHeader(const VirtioHeader& header) {
  std::array<uint8_t, kVirtioHeaderSize> out{};
  out[0] = header.flags;
  out[1] = header.gso_type;
  WriteLittle16(header.hdr_len, &out[2]);
  WriteLittle16(header.gso_size, &out[4]);
  WriteLittle16(header.csum_start, &out[6]);
  WriteLittle16(header.csum_offset, &out[8]);
  return out;
}

WireError ValidateVirtioHeader(const VirtioHeader& header, size_t frame_size) {
  if ((header.flags & ~(kVirtioNeedsCsum | kVirtioDataValid)) != 0) {
    return WireError::kBadVirtioFlags;
  }
  const uint8_t gso = header.gso_type & ~kGsoEcn;
  const bool ecn = (header.gso_type & kGsoEcn) != 0;
  switch (gso) {
    case kGsoNone:
      if (ecn) return WireError::kBadGsoType;
      break;
    case kGsoTcpV4:
    case kGsoTcpV6:
      break;
    case kGsoUdpL4:
      if (ecn) return WireError::kBadGsoType;
      break;
    default:
      return WireError::kBadGsoType;
  }
  if (gso != kGsoNone && header.gso_size == 0) return WireError::kBadGsoSize;
  if (header.hdr_len > frame_size) return WireError::kBadHeaderLength;
  if ((header.flags & kVirtioNeedsCsum) != 0 &&
      size_t{header.csum_start} + header.csum_offset + 2 > frame_size) {
    return WireError::kBadChecksumOffset;
  }
  return WireError::kOk;
}

DataPayload SplitData(absl::Span<const uint8_t> payload) {
  return DataPayload{.virtio = ParseVirtioHeader(payload),
                     .frame = payload.subspan(kVirtioHeaderSize)};
}

std::string EncodeDatagram(const Header& header, absl::Span<const uint8_t> payload) {
  std::array<uint8_t, kHeaderSize> encoded = EncodeHeader(header);
  std::string out(reinterpret_cast<const char*>(encoded.data()), encoded.size());
  out.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  return out;
}

std::string EncodeSealedDatagram(const crypto::Key32& key, const Header& header,
                                 absl::Span<const uint8_t> payload) {
  std::string out(kSealedPrefixSize + payload.size(), '\0');
  auto* bytes = reinterpret_cast<uint8_t*>(out.data());
  if (!payload.empty()) std::memcpy(bytes + kSealedPrefixSize, payload.data(), payload.size());
  SealDatagram(key, header, bytes + kSealedPrefixSize, payload.size(), bytes);
  return out;
}

}  // namespace weave::overlay
