// The sleeve's UDP datagram format, as pure functions of bytes. Nothing here touches a socket.
//
// One datagram carries one Ethernet frame (or one heartbeat). It starts with a 32-byte header;
// integers are big-endian:
//
//   offset size  field
//   0      1     magic 0x57 ('W')
//   1      1     version, kVersion
//   2      1     type: 1 data, 2 heartbeat (MessageType)
//   3      1     flags: kFlagSealed (below) or 0; a receiver rejects any other bit
//   4      1     hop limit: how many more hops a relay may forward the datagram; 0 is invalid
//   5      1     reserved, must be 0
//   6      6     sender: the peer that sent this datagram (the last hop)
//   12     6     source: the peer whose TAP captured the frame (the sender itself unless relayed)
//   18     6     destination: the peer the frame is for, or kBroadcastPeer
//   24     8     counter: the sender's datagram counter, unique per sender process (data
//                datagrams, relayed ones included, count from 0; heartbeats have bit 63 set and
//                count apart, so that the two never share a value)
//
// Payload by type:
//   data       a virtio_net_hdr (kVirtioHeaderSize = 10 bytes, little-endian, exactly as a TAP
//              opened with IFF_VNET_HDR reads and writes it; no num_buffers field), then the
//              Ethernet frame (at least 14 bytes). A GSO super-frame travels whole: the receiver's
//              kernel segments it or delivers it as it is.
//   heartbeat  an 8-byte sequence number, nothing else.
//
// Sealed datagrams (flags & kFlagSealed), used on every link that has a key: the header stays in
// the clear (the receiver needs the sender's name to pick the key) and is followed by a secretbox
// (XSalsa20-Poly1305, detached) under the link's key:
//
//   0      32    header, as above
//   32     16    Poly1305 tag
//   48     32    ciphertext of a copy of the header (bytes 0..31, byte for byte)
//   80     n     ciphertext of the payload
//
// nonce (24 bytes) = sender (6) | type (1) | 9 zero bytes | counter (8, big-endian).
// A receiver opens the box with the sender's key and that nonce and accepts the datagram only if
// the decrypted header copy equals the clear header, so every header field is authenticated.
// Nonces never repeat under a key: both ends of a link share its key, but their names differ; one
// sender's counter never repeats. A receiver accepts each counter of a sender once (replay
// window, replay_window.h). Sealing adds kSealedOverhead = 48 bytes.
//
// A datagram holds at most kMaxDatagramSize bytes (the largest IPv4 UDP payload), so a frame may
// have at most kMaxFrameSize bytes (kMaxSealedFrameSize when sealed); the kernel IP-fragments
// datagrams above the underlay's MTU.
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
#include "common/crypto/box.h"
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
// What a sealed datagram adds: the tag and the header's sealed copy.
inline constexpr size_t kSealTagSize = crypto::kSealOverhead;
inline constexpr size_t kSealedOverhead = kSealTagSize + kHeaderSize;
// Bytes before the payload in a sealed datagram.
inline constexpr size_t kSealedPrefixSize = kHeaderSize + kSealedOverhead;
inline constexpr size_t kMaxSealedFrameSize = kMaxFrameSize - kSealedOverhead;

// Not a peer: ff:ff:ff:ff:ff:ff, the broadcast MAC, which no peer name can be.
inline constexpr PeerName kBroadcastPeer{0xffffffffffffULL};
// What a sender puts in the hop limit; a relay decrements it and drops at 0.
inline constexpr uint8_t kDefaultHopLimit = 8;
// The payload is sealed (see the top of this file).
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
  kSealedTooShort,      // Sealed, but shorter than the tag and the header's copy.
  kBadSeal,             // Does not open with the key, or the sealed header copy differs.
};
inline constexpr int kWireErrorCount = static_cast<int>(WireError::kBadSeal) + 1;

// "unknown message type", for logs; every value has a text.
absl::string_view WireErrorText(WireError error);

std::array<uint8_t, kHeaderSize> EncodeHeader(const Header& header);

// A decoded datagram; `payload` points into the decoded bytes.
struct Datagram {
  Header header;
  absl::Span<const uint8_t> payload;
};

// Checks the header and, for a plain datagram, the payload's shape for its type (a heartbeat's
// length; for data, that a virtio header and an Ethernet header fit, and ValidateVirtioHeader).
// For a sealed one, only that the sealed part holds a tag and the header's copy: `payload` is
// then the sealed part, to be opened by OpenDatagram. On kOk fills `out`, else leaves it
// unspecified.
WireError DecodeDatagram(absl::Span<const uint8_t> bytes, Datagram* out);

// The nonce of a sealed datagram with this header (see the top of this file).
crypto::Nonce24 SealNonce(const Header& header);

// Opens the sealed datagram `bytes`, which DecodeDatagram accepted into `datagram`, in place with
// `key`: kBadSeal when the box does not open or its header copy is not the clear header;
// otherwise the payload's checks of DecodeDatagram. On kOk, datagram->payload is the plaintext
// payload, inside `bytes`.
WireError OpenDatagram(const crypto::Key32& key, absl::Span<uint8_t> bytes, Datagram* datagram);

// Writes the sealed datagram carrying `header` (kFlagSealed is added) and the `size` bytes at
// `payload` to `out` and returns its length, kSealedPrefixSize + size. The kHeaderSize bytes
// before `payload` are scratch (overwritten). `out` is either payload - kSealedPrefixSize (sealing
// in place: the datagram ends where the payload does) or a buffer of kSealedPrefixSize + size
// bytes that overlaps neither those scratch bytes nor the payload. Never allocates.
size_t SealDatagram(const crypto::Key32& key, Header header, uint8_t* payload, size_t size,
                    uint8_t* out);

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
// The same, sealed with `key`: for tests.
std::string EncodeSealedDatagram(const crypto::Key32& key, const Header& header,
                                 absl::Span<const uint8_t> payload);

}  // namespace weave::overlay
