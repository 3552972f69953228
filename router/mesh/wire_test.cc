#include "router/mesh/wire.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace weave::mesh {
namespace {

using Kind = Header::Kind;
using namespace std::string_literals;

TEST_CASE("EncodeHeader is the magic then the two versions", "[wire]") {
  CHECK(EncodeHeader(1, 2) == "weave-cc\x01\x02"s);
  CHECK(EncodeHeader(1, 2).size() == kHeaderSize);
}

TEST_CASE("ParseHeader round-trips our header and reports what it consumed", "[wire]") {
  std::string received = EncodeHeader(3, 250) + "rest of the stream";
  auto header = ParseHeader(received);
  REQUIRE(header.ok());
  CHECK(header->kind == Kind::kOurs);
  CHECK(header->min_version == 3);
  CHECK(header->max_version == 250);
  CHECK(header->consumed == kHeaderSize);
}

TEST_CASE("Every proper prefix of our header needs more bytes", "[wire]") {
  const std::string full = EncodeHeader(1, 2);
  for (size_t n = 0; n < full.size(); ++n) {
    INFO("prefix length " << n);
    auto header = ParseHeader(absl::string_view(full).substr(0, n));
    REQUIRE(header.ok());
    CHECK(header->kind == Kind::kNeedMore);
    CHECK(header->consumed == 0);
  }
}

TEST_CASE("ParseHeader recognises the original Weave Net header after 7 bytes", "[wire]") {
  for (size_t n = 0; n < kOriginalHeaderSize; ++n) {
    auto partial = ParseHeader(absl::string_view("weave\x01\x02", n));
    REQUIRE(partial.ok());
    CHECK(partial->kind == Kind::kNeedMore);
  }
  // Followed by the original's first v2 message, which must not be mistaken for ours.
  auto header = ParseHeader("weave\x01\x02\x01"s);
  REQUIRE(header.ok());
  CHECK(header->kind == Kind::kOriginalWeave);
  CHECK(header->min_version == 1);
  CHECK(header->max_version == 2);
  CHECK(header->consumed == kOriginalHeaderSize);
}

TEST_CASE("ParseHeader rejects garbage on its first wrong byte", "[wire]") {
  auto http = ParseHeader("G");
  REQUIRE_FALSE(http.ok());
  CHECK(http.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(http.status().message() == "not a Weave Net peer: unexpected bytes 0x47 at the start");

  auto late = ParseHeader("weaxe");
  REQUIRE_FALSE(late.ok());
  CHECK(late.status().message() ==
        "not a Weave Net peer: unexpected bytes 0x77656178 at the start");

  // "weave-" commits to our magic, so a wrong byte after it is rejected before 7 bytes.
  auto magic = ParseHeader("weave-x");
  REQUIRE_FALSE(magic.ok());
  CHECK(magic.status().message() ==
        "not a Weave Net peer: unexpected bytes 0x77656176652d78 at the start");

  CHECK_FALSE(ParseHeader("\0"s).ok());
  CHECK_FALSE(ParseHeader("weave-cX\x01\x02").ok());
}

TEST_CASE("NegotiateVersion picks the highest common version", "[wire]") {
  CHECK(NegotiateVersion(1, 2, 1, 2).value() == 2);
  CHECK(NegotiateVersion(1, 3, 2, 5).value() == 3);
  CHECK(NegotiateVersion(2, 5, 1, 3).value() == 3);
  CHECK(NegotiateVersion(1, 2, 2, 2).value() == 2);  // Ranges touching at one version.
  CHECK(NegotiateVersion(2, 2, 1, 2).value() == 2);
  CHECK(NegotiateVersion(0, 255, 7, 7).value() == 7);
}

TEST_CASE("NegotiateVersion rejects ranges that do not overlap", "[wire]") {
  auto newer = NegotiateVersion(1, 2, 3, 4);
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(newer.status().message() ==
        "remote protocol versions 3..4 are incompatible with ours 1..2");
  CHECK_FALSE(NegotiateVersion(3, 4, 1, 2).ok());
  CHECK_FALSE(NegotiateVersion(1, 2, 2, 1).ok());  // A peer announcing an inverted range.
}

TEST_CASE("EncodeFrame writes a big-endian length before the payload", "[wire]") {
  CHECK(EncodeFrame("abc") ==
        "\x00\x00\x00\x03"
        "abc"s);
  CHECK(EncodeFrame(std::string(0x010203, 'x')).substr(0, 4) == "\x00\x01\x02\x03"s);
  CHECK(EncodeFrame("") == "\x00\x00\x00\x00"s);
}

TEST_CASE("FrameReader returns frames that arrive byte by byte", "[wire]") {
  const std::string first(300, 'a');
  const std::string stream = EncodeFrame(first) + EncodeFrame("") + EncodeFrame("second");
  FrameReader reader;
  std::vector<std::string> frames;
  for (char byte : stream) {
    REQUIRE(reader.Append(absl::string_view(&byte, 1)).ok());
    while (auto frame = reader.Next()) frames.push_back(*frame);
  }
  CHECK(frames == std::vector<std::string>{first, "", "second"});
  CHECK(reader.buffered() == 0);
}

TEST_CASE("FrameReader splits several frames from one Append", "[wire]") {
  FrameReader reader;
  const std::string partial = EncodeFrame("three").substr(0, 6);
  REQUIRE(reader.Append(EncodeFrame("one") + EncodeFrame("two") + partial).ok());
  CHECK(reader.buffered() == 7 + 7 + 6);
  CHECK(reader.Next() == "one");
  CHECK(reader.Next() == "two");
  CHECK(reader.Next() == std::nullopt);
  CHECK(reader.buffered() == 6);
  REQUIRE(reader.Append("ree").ok());
  CHECK(reader.Next() == "three");
  CHECK(reader.Next() == std::nullopt);
}

TEST_CASE("FrameReader accepts a frame of exactly the maximum size", "[wire]") {
  FrameReader reader;
  REQUIRE(reader.Append(EncodeFrame(std::string(kMaxFrameSize, 'z'))).ok());
  auto frame = reader.Next();
  REQUIRE(frame.has_value());
  CHECK(frame->size() == kMaxFrameSize);
}

TEST_CASE("FrameReader rejects an oversized length as soon as the prefix arrives", "[wire]") {
  FrameReader reader;
  REQUIRE(reader.Append(EncodeFrame("good")).ok());
  REQUIRE(reader.Append("\xff\xff\xff").ok());  // Not yet a whole prefix.
  absl::Status status = reader.Append("\xff");
  CHECK(status.code() == absl::StatusCode::kResourceExhausted);
  CHECK(status.message() == "mesh frame of 4294967295 bytes exceeds the 8388608-byte limit");
  // Nothing was kept for the announced frame, and the reader stays failed.
  CHECK(reader.buffered() == 8);
  CHECK(reader.Append(EncodeFrame("after")).code() == absl::StatusCode::kResourceExhausted);
  CHECK(reader.Next() == "good");
  CHECK(reader.Next() == std::nullopt);
}

TEST_CASE("FrameReader rejects one byte over the limit even after good frames", "[wire]") {
  FrameReader reader;
  const uint32_t over = kMaxFrameSize + 1;
  std::string prefix = {static_cast<char>(over >> 24), static_cast<char>(over >> 16),
                        static_cast<char>(over >> 8), static_cast<char>(over)};
  CHECK(reader.Append(EncodeFrame("ok") + prefix).code() == absl::StatusCode::kResourceExhausted);
  CHECK(reader.Next() == "ok");
}

}  // namespace
}  // namespace weave::mesh
