// The sleeve's UDP datagram format, as pure functions of bytes. Nothing here touches a socket.
//
// One datagram carries one Ethernet frame (or one heartbeat). It starts with a 32-byte header;
// integers are big-endian:
//
//   offset size  field
//   0      1     magic 0x57 ('W')
//   1      1     version, kVersion
//   2      1     type: 1 data, 2 heartbeat (MessageType)
//   3      1     flags: none are defined in version 1 and a receiver rejects any it does not
//                know. Reserved: kFlagSealed, "the payload is a secretbox under the link's key,
//                nonce from (sender, counter)"; the header itself stays in clear.
//   4      1     hop limit: how many more hops a relay may forward the datagram; 0 is invalid
//   5      1     reserved, must be 0
//   6      6     sender: the peer that sent this datagram (the last hop)
//   12     6     source: the peer whose TAP captured the frame (the sender itself unless relayed)
//   18     6     destination: the peer the frame is for, or kBroadcastPeer
//   24     8     counter: per-sender datagram counter, the future encryption nonce (data datagrams
//                count from 0, heartbeats have bit 63 set so that the two never share a value)
//
// Payload by type:
//   data       a virtio_net_hdr (kVirtioHeaderSize = 10 bytes, little-endian, exactly as a TAP
//              opened with IFF_VNET_HDR reads and writes it; no num_buffers field), then the
//              Ethernet frame (at least 14 bytes). A GSO super-frame travels whole: the receiver's
//              kernel segments it or delivers it as it is.
//   heartbeat  an 8-byte sequence number, nothing else.
//
// A datagram holds at most kMaxDatagramSize bytes (the largest IPv4 UDP payload), so a frame may
// have at most kMaxFrameSize bytes; the kernel IP-fragments datagrams above the underlay's MTU.
//
// Decoders accept any byte string and never read outside it; what is wrong is a WireError
// (an enum rather than a Status: the receive path counts drops by reason without allocating).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/peer_name.h"

namespace weave::overlay {

inline constexpr uint8_t kMagic = 0x57;
inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderSize = 32;
inline constexpr size_t kHeartbeatPayloadSize = 8;
inline constexpr size_t kVirtioHeaderSize = 10;
inline constexpr size_t kEthernetHeaderSize = 14;
inline constexpr size_t kMaxDatagramSize = 65535 - 20 - 8;  // IPv4 total length - IP - UDP.
inline constexpr size_t kMaxFrameSize = kMaxDatagramSize - kHeaderSize - kVirtioHeaderSize;

// Not a peer: ff:ff:ff:ff:ff:ff, the broadcast MAC, which no peer name can be.
inline constexpr PeerName kBroadcastPeer{0xffffffffffffULL};
// What a sender puts in the hop limit; a relay decrements it and drops at 0.
inline constexpr uint8_t kDefaultHopLimit = 8;
// Reserved for encryption (see the top of this file); version 1 rejects it.
inline constexpr uint8_t kFlagSealed = 0x01;
// Set in the counter of heartbeats.
inline constexpr uint64_t kHeartbeatCounterBit = uint64_t{1} << 63;

enum class MessageType : uint8_t { kData = 1, kHeartbeat = 2 };

struct Header {
  MessageType type = MessageType::kData;
  uint8_t flags = 0;
  uint8_t hop_limit = kDefaultHopLimit;
  PeerName sender;
  PeerName source;
  PeerName destination;
  uint64_t counter = 0;

  friend bool operator==(const Header&, const Header&) = default;
};

// Why bytes were rejected. kOk is not an error.
enum class WireError : uint8_t {
  kOk = 0,
  kTooShort,  // Fewer bytes than the header.
  kTooLong,   // More than kMaxDatagramSize.
  kBadMagic,
  kUnsupportedVersion,
  kUnknownType,
  kUnknownFlags,
  kZeroHopLimit,
  kReservedNotZero,
  kBadSender,           // Zero or broadcast.
  kBadSource,           // Zero or broadcast.
  kBadDestination,      // Zero.
  kBadHeartbeatLength,  // A heartbeat payload that is not exactly 8 bytes.
  kFrameTooShort,       // Data without a virtio header and an Ethernet header.
  kBadVirtioFlags,      // Flags other than NEEDS_CSUM and DATA_VALID.
  kBadGsoType,          // Not NONE, TCPV4, TCPV6 or UDP_L4 (ECN only with TCP).
  kBadGsoSize,          // Zero for a GSO frame.
  kBadHeaderLength,     // hdr_len beyond the frame.
  kBadChecksumOffset,   // csum_start + csum_offset + 2 beyond the frame.
};
inline constexpr int kWireErrorCount = static_cast<int>(WireError::kBadChecksumOffset) + 1;

// "unknown message type", for logs; every value has a text.
absl::string_view WireErrorText(WireError error);

std::array<uint8_t, kHeaderSize> EncodeHeader(const Header& header);

// A decoded datagram; `payload` points into the decoded bytes.
struct Datagram {
  Header header;
  absl::Span<const uint8_t> payload;
};

// Checks the header and the payload's shape for its type (a heartbeat's length; for data, that a
// virtio header and an Ethernet header fit, and ValidateVirtioHeader). On kOk fills `out`, else
// leaves it unspecified.
WireError DecodeDatagram(absl::Span<const uint8_t> bytes, Datagram* out);

std::array<uint8_t, kHeartbeatPayloadSize> EncodeHeartbeat(uint64_t seq);
// The sequence number of a heartbeat payload (exactly 8 bytes).
WireError DecodeHeartbeat(absl::Span<const uint8_t> payload, uint64_t* seq);

// struct virtio_net_hdr, in host order. Field meanings as in <linux/virtio_net.h>.
struct VirtioHeader {
  uint8_t flags = 0;
  uint8_t gso_type = 0;
  uint16_t hdr_len = 0;
  uint16_t gso_size = 0;
  uint16_t csum_start = 0;
  uint16_t csum_offset = 0;

  friend bool operator==(const VirtioHeader&, const VirtioHeader&) = default;
};

// The constants of <linux/virtio_net.h> that we check (UDP_L4 is newer than the userspace
// headers here).
inline constexpr uint8_t kVirtioNeedsCsum = 1;
inline constexpr uint8_t kVirtioDataValid = 2;
inline constexpr uint8_t kGsoNone = 0;
inline constexpr uint8_t kGsoTcpV4 = 1;
inline constexpr uint8_t kGsoTcpV6 = 4;
inline constexpr uint8_t kGsoUdpL4 = 5;
inline constexpr uint8_t kGsoEcn = 0x80;

// `bytes` must hold at least kVirtioHeaderSize bytes (the caller's bug otherwise: aborts).
VirtioHeader ParseVirtioHeader(absl::Span<const uint8_t> bytes);
std::array<uint8_t, kVirtioHeaderSize> EncodeVirtioHeader(const VirtioHeader& header);

// What the receiver checks before writing a frame into its TAP, so that a peer cannot hand the
// kernel offsets outside the frame of `frame_size` bytes.
WireError ValidateVirtioHeader(const VirtioHeader& header, size_t frame_size);

// A data payload split into its virtio header and Ethernet frame. `payload` must have passed
// DecodeDatagram (at least kVirtioHeaderSize + kEthernetHeaderSize bytes).
struct DataPayload {
  VirtioHeader virtio;
  absl::Span<const uint8_t> frame;
};
DataPayload SplitData(absl::Span<const uint8_t> payload);

// Header, then payload, as one string: for heartbeats and tests (the data path sends the header
// and the frame as two iovecs instead).
std::string EncodeDatagram(const Header& header, absl::Span<const uint8_t> payload);

}  // namespace weave::overlay
