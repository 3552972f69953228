#include "common/kube/watch_decoder.h"

#include <catch2/catch.hpp>

namespace weave::kube {
namespace {

constexpr char kAdded[] =
    R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}})";
constexpr char kBookmark[] =
    R"({"type":"BOOKMARK","object":{"kind":"Node","metadata":{"resourceVersion":"9"}}})";

TEST_CASE("events are decoded whatever the pieces they arrive in", "[kube]") {
  const std::string stream = std::string(kAdded) + "\n\n" + kBookmark + "\n";
  for (size_t size : {1, 2, 7, 64, 1000}) {
    INFO("pieces of " << size);
    WatchDecoder decoder;
    std::vector<WatchEvent> events;
    for (size_t i = 0; i < stream.size(); i += size) {
      REQUIRE(decoder.Feed(absl::string_view(stream).substr(i, size), events).ok());
    }
    REQUIRE(decoder.Finish().ok());
    REQUIRE(events.size() == 2);
    CHECK(events[0].type == EventType::kAdded);
    CHECK(NameOf(events[0].object) == "a");
    CHECK(events[1].type == EventType::kBookmark);
    CHECK(ResourceVersionOf(events[1].object) == "9");
  }
}

TEST_CASE("garbage is an error, not a crash", "[kube]") {
  for (const char* line :
       {"<html><body>502</body></html>", "{\"type\":\"ADDED\"", "[]", "null", "{}",
        R"({"type":"ADDED","object":"x"})", R"({"type":"RENAMED","object":{}})",
        R"({"type":7,"object":{}})", "\xff\xfe"}) {
    INFO(line);
    WatchDecoder decoder;
    std::vector<WatchEvent> events;
    absl::Status status = decoder.Feed(std::string(line) + "\n", events);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(status.message().find('\n') == absl::string_view::npos);
    CHECK(events.empty());
  }
}

TEST_CASE("deeply nested JSON is decoded and freed without exhausting the stack", "[kube]") {
  const int depth = 1000000;
  const std::string line = R"({"type":"ADDED","object":{"a":)" + std::string(depth, '[') +
                           std::string(depth, ']') + "}}\n";
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  CHECK(decoder.Feed(line, events).ok());
  CHECK(events.size() == 1);
}

TEST_CASE("a stream cut in the middle of an event is reported by Finish", "[kube]") {
  WatchDecoder decoder;
  std::vector<WatchEvent> events;
  REQUIRE(decoder.Feed(std::string(kAdded) + "\n{\"type\":\"MOD", events).ok());
  CHECK(events.size() == 1);
  CHECK(decoder.Finish().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("an event over the size limit is refused before it is all buffered", "[kube]") {
  WatchDecoder decoder(100);
  std::vector<WatchEvent> events;
  CHECK(decoder.Feed(std::string(60, ' '), events).ok());
  CHECK(decoder.Feed(std::string(60, ' '), events).code() == absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace weave::kube
