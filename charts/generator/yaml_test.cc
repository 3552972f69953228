#include "charts/generator/yaml.h"

#include <catch2/catch.hpp>

namespace weave::charts {
namespace {

using Json = nlohmann::ordered_json;

TEST_CASE("strings are plain unless YAML would read them as something else", "[charts]") {
  for (const char* plain : {"weave-net", "10.32.0.0/12", "0.0.0.0:6782", "127.0.0.1", "10m",
                            "spec.nodeName", "/home/weave/launch.sh", "it's", "a:b", "v1",
                            "10.0.0.0/8,192.168.0.0/16", "s0:c123,c456"}) {
    CHECK(YamlScalar(plain) == plain);
  }
  // Numbers of every base and form, booleans of YAML 1.1 and 1.2, null, dates, indicators.
  for (const char* quoted : {"1337",
                             "30",
                             "-1",
                             "+1",
                             "0",
                             "012",
                             "0o17",
                             "0x1F",
                             "0b101",
                             "1_000",
                             "1:20",
                             "1.5",
                             ".5",
                             "1e3",
                             "1.0e+3",
                             ".inf",
                             "-.Inf",
                             ".NaN",
                             "true",
                             "False",
                             "yes",
                             "No",
                             "on",
                             "OFF",
                             "y",
                             "n",
                             "null",
                             "~",
                             "",
                             "2001-12-14",
                             "2001-12-14t21:59:43.10-05:00",
                             "-x",
                             "- x",
                             "? x",
                             ":x",
                             "#x",
                             "&a",
                             "*a",
                             "!tag",
                             "|",
                             ">",
                             "%x",
                             "@x",
                             "`x",
                             "[a]",
                             "{a}",
                             ",a",
                             " lead",
                             "trail ",
                             "a: b",
                             "a #b",
                             "colon:",
                             "=",
                             "<<"}) {
    INFO(quoted);
    std::string scalar = YamlScalar(quoted);
    CHECK(scalar == "'" + std::string(quoted) + "'");
  }
  CHECK(YamlScalar("'quoted'") == "'''quoted'''");
  CHECK(YamlScalar("a\nb") == "\"a\\nb\"");
  CHECK(YamlScalar("tab\there") == "\"tab\\there\"");
}

TEST_CASE("mappings nest by two and sequences sit indented under their key", "[charts]") {
  Json document = {
      {"kind", "List"},
      {"items", Json::array({{{"name", "weave"},
                              {"env", Json::array({{{"name", "WEAVE_MTU"}, {"value", "1337"}}})}},
                             "scalar",
                             Json::array({1, 2})})},
      {"empty", Json::object()},
      {"none", Json::array()},
      {"flags", {{"on", true}, {"port", 6784}, {"nothing", nullptr}}},
  };
  CHECK(EmitYaml(document) ==
        "kind: List\n"
        "items:\n"
        "  - name: weave\n"
        "    env:\n"
        "      - name: WEAVE_MTU\n"
        "        value: '1337'\n"
        "  - scalar\n"
        "  -\n"
        "    - 1\n"
        "    - 2\n"
        "empty: {}\n"
        "none: []\n"
        "flags:\n"
        "  'on': true\n"
        "  port: 6784\n"
        "  nothing: null\n");
}

TEST_CASE("a top-level array is a block sequence", "[charts]") {
  CHECK(EmitYaml(Json::array({"a", Json::object({{"b", "c"}})})) == "- a\n- b: c\n");
}

}  // namespace
}  // namespace weave::charts
