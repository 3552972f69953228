#include "common/config/values.h"

#include <catch2/catch.hpp>

namespace weave::config {
namespace {

constexpr Setting kLimit{"--conn-limit", "CONN_LIMIT"};

TEST_CASE("ParseInteger accepts whole numbers in range only", "[config]") {
  CHECK(*ParseInteger(kLimit, "30", 0, 100, "a number") == 30);
  CHECK(*ParseInteger(kLimit, "0", 0, 100, "a number") == 0);
  for (const char* bad : {"-1", "101", "abc", "", " 3", "3 ", "+3", "3.0", "0x10"}) {
    INFO(bad);
    CHECK_FALSE(ParseInteger(kLimit, bad, 0, 100, "a number").ok());
  }
}

TEST_CASE("errors name the variable, the flag, the value and the accepted form", "[config]") {
  auto result = ParseInteger(kLimit, "-1", 0, 100, "a whole number, 0 or more");
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().message() ==
        "invalid CONN_LIMIT (--conn-limit) \"-1\": expected a whole number, 0 or more");
  auto flag_only = ParseBool({"--allow-mcast", ""}, "maybe");
  CHECK(flag_only.status().message().rfind("invalid --allow-mcast \"maybe\"", 0) == 0);
  // Control characters are escaped so that the error stays one line.
  auto newline = ParseBool(kLimit, "a\nb");
  CHECK(newline.status().message().find('\n') == absl::string_view::npos);
}

TEST_CASE("ParseBool accepts the usual spellings", "[config]") {
  for (const char* yes : {"1", "true", "TRUE", "yes", "on"}) CHECK(*ParseBool(kLimit, yes));
  for (const char* no : {"0", "false", "No", "off"}) CHECK_FALSE(*ParseBool(kLimit, no));
  CHECK_FALSE(ParseBool(kLimit, "2").ok());
  CHECK_FALSE(ParseBool(kLimit, "").ok());
}

TEST_CASE("SplitList splits on commas and whitespace", "[config]") {
  CHECK(SplitList("a, b  c,,d") == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(SplitList("").empty());
}

}  // namespace
}  // namespace weave::config
