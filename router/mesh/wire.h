// The mesh's TCP wire format, as pure functions of bytes: the handshake header, version
// negotiation and length-prefixed framing. Nothing here touches a socket or a clock; the
// connection code feeds received bytes in and writes the strings out.
//
// A connection starts with each side sending EncodeHeader(). Our header is kMagic followed by
// the min and max protocol versions. The original Weave Net 2.x sends "weave" + min + max; we
// recognise it so that we can say clearly why we cannot talk to it. After the header, every
// message is a frame: a 4-byte big-endian length, then that many bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace weave::mesh {

// Larger length prefixes are an error: a peer announcing more is broken or hostile.
inline constexpr size_t kMaxFrameSize = 8 << 20;
inline constexpr size_t kFrameLengthSize = 4;

// Our header is kMagic + min version byte + max version byte (kHeaderSize bytes). It shares the
// prefix "weave" with the original's header, which is followed there directly by version bytes.
inline constexpr absl::string_view kMagic = "weave-cc";
inline constexpr size_t kHeaderSize = 10;
inline constexpr size_t kOriginalHeaderSize = 7;

std::string EncodeHeader(uint8_t min_version, uint8_t max_version);

struct Header {
  enum class Kind { kNeedMore, kOurs, kOriginalWeave };
  Kind kind = Kind::kNeedMore;
  uint8_t min_version = 0, max_version = 0;
  // Bytes of `received` that the header occupied; the rest belongs to what follows it.
  size_t consumed = 0;
};

// Incremental: call it with everything received so far until kind is not kNeedMore.
//
// Both headers begin "weave". The sixth byte decides: '-' continues our magic, anything else is
// the original's min version (its versions are small numbers, never 45 = '-'). So the original
// is recognised after exactly 7 bytes, ours after 10.
//
// Bytes that cannot begin either header are InvalidArgument as soon as the first wrong byte
// arrives ("not a Weave Net peer: unexpected bytes 0x474554 at the start"), so that an HTTP
// client or port scanner is rejected without waiting for the header timeout.
absl::StatusOr<Header> ParseHeader(absl::string_view received);

// Both sides compute the same result from the two ranges: min = max(mins), max = min(maxes),
// and the chosen version is max. FailedPrecondition when the ranges do not overlap:
// "remote protocol versions 3..4 are incompatible with ours 1..2".
absl::StatusOr<uint8_t> NegotiateVersion(uint8_t our_min, uint8_t our_max, uint8_t their_min,
                                         uint8_t their_max);

// 4-byte big-endian length, then the payload. A payload above kMaxFrameSize is the caller's
// bug (the receiver would reject it) and aborts.
std::string EncodeFrame(absl::string_view payload);

// Reassembles frames from a byte stream, however the stream was split. Not thread-safe.
class FrameReader {
 public:
  // Appends received bytes. A length prefix above kMaxFrameSize returns ResourceExhausted naming
  // the size; the reader then stays failed, returning that error from every later Append (the
  // stream cannot be resynchronised). Frames completed before the bad prefix stay available from
  // Next(). Memory grows only with the bytes actually received, never with announced lengths.
  absl::Status Append(absl::string_view bytes);

  // The next complete frame's payload, if any, in stream order.
  std::optional<std::string> Next();

  // Bytes received and not yet returned by Next(), length prefixes included.
  size_t buffered() const { return buffer_.size() - read_; }

 private:
  std::string buffer_;
  size_t read_ = 0;      // Start of the first frame not yet returned by Next().
  size_t complete_ = 0;  // End of the last complete, validated frame.
  absl::Status status_;  // Sticky: the first oversized prefix.
};

}  // namespace weave::mesh
