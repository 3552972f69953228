#include "router/mesh/wire.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "spdlog/spdlog.h"

namespace weave::mesh {
namespace {

// The prefix both our header and the original's start with.
constexpr absl::string_view kSharedPrefix = "weave";
static_assert(kMagic.size() + 2 == kHeaderSize);
static_assert(kSharedPrefix.size() + 2 == kOriginalHeaderSize);
static_assert(kMagic.substr(0, kSharedPrefix.size()) == kSharedPrefix);

uint32_t ReadBigEndian32(absl::string_view bytes) {
  uint32_t value = 0;
  for (size_t i = 0; i < kFrameLengthSize; ++i) {
    value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return value;
}

}  // namespace

std::string EncodeHeader(uint8_t min_version, uint8_t max_version) {
  std::string header(kMagic);
  header.push_back(static_cast<char>(min_version));
  header.push_back(static_cast<char>(max_version));
  return header;
}

absl::StatusOr<Header> ParseHeader(absl::string_view received) {
  const size_t shared = kSharedPrefix.size();
  const bool ours = received.size() > shared && received[shared] == kMagic[shared];
  const absl::string_view expected = ours ? kMagic : kSharedPrefix;
  const size_t checkable = std::min(received.size(), expected.size());
  for (size_t i = 0; i < checkable; ++i) {
    if (received[i] != expected[i]) {
      return absl::InvalidArgumentError(
          absl::StrFormat("not a Weave Net peer: unexpected bytes 0x%s at the start",
                          absl::BytesToHexString(received.substr(0, i + 1))));
    }
  }
  const size_t size = ours ? kHeaderSize : kOriginalHeaderSize;
  if (received.size() < size) return Header{};
  return Header{.kind = ours ? Header::Kind::kOurs : Header::Kind::kOriginalWeave,
                .min_version = static_cast<uint8_t>(received[size - 2]),
                .max_version = static_cast<uint8_t>(received[size - 1]),
                .consumed = size};
}

absl::StatusOr<uint8_t> NegotiateVersion(uint8_t our_min, uint8_t our_max, uint8_t their_min,
                                         uint8_t their_max) {
  const uint8_t min = std::max(our_min, their_min);
  const uint8_t max = std::min(our_max, their_max);
  if (min > max) {
    return absl::FailedPreconditionError(
        absl::StrFormat("remote protocol versions %d..%d are incompatible with ours %d..%d",
                        their_min, their_max, our_min, our_max));
  }
  return max;
}

std::string EncodeFrame(absl::string_view payload) {
  if (payload.size() > kMaxFrameSize) {
    spdlog::critical("mesh: encoding a {}-byte frame, above the {}-byte limit", payload.size(),
                     kMaxFrameSize);
    std::abort();
  }
  const auto size = static_cast<uint32_t>(payload.size());
  std::string frame;
  frame.reserve(kFrameLengthSize + payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    frame.push_back(static_cast<char>((size >> shift) & 0xff));
  }
  frame.append(payload.data(), payload.size());
  return frame;
}

absl::Status FrameReader::Append(absl::string_view bytes) {
  if (!status_.ok()) return status_;
  // Drop what Next() has returned, so the buffer holds only unread bytes.
  buffer_.erase(0, read_);
  complete_ -= read_;
  read_ = 0;
  buffer_.append(bytes.data(), bytes.size());
  // Validate each new length prefix as soon as its 4 bytes are here, before its body arrives.
  while (buffer_.size() - complete_ >= kFrameLengthSize) {
    const uint32_t length = ReadBigEndian32(absl::string_view(buffer_).substr(complete_));
    if (length > kMaxFrameSize) {
      status_ = absl::ResourceExhaustedError(absl::StrFormat(
          "mesh frame of %u bytes exceeds the %u-byte limit", length, kMaxFrameSize));
      buffer_.resize(complete_);  // The rest of the stream is garbage; keep the good frames.
      return status_;
    }
    if (buffer_.size() - complete_ - kFrameLengthSize < length) break;
    complete_ += kFrameLengthSize + length;
  }
  return absl::OkStatus();
}

std::optional<std::string> FrameReader::Next() {
  if (read_ == complete_) return std::nullopt;
  const uint32_t length = ReadBigEndian32(absl::string_view(buffer_).substr(read_));
  std::string payload = buffer_.substr(read_ + kFrameLengthSize, length);
  read_ += kFrameLengthSize + length;
  return payload;
}

}  // namespace weave::mesh
