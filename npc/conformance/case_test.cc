#include "npc/conformance/case.h"

#include <catch2/catch.hpp>

#include "npc/conformance/runner.h"

namespace weave::npc::conformance {
namespace {

using Json = nlohmann::json;

// A 9x9 matrix where every connection succeeds except those into `blocked_to` pods.
Json Matrix(const std::string& blocked_to = "") {
  Json matrix = Json::object();
  const std::vector<std::string> pods = {"x/a", "x/b", "x/c", "y/a", "y/b",
                                         "y/c", "z/a", "z/b", "z/c"};
  for (const std::string& from : pods) {
    std::string row;
    for (const std::string& to : pods) {
      row += (!blocked_to.empty() && to.starts_with(blocked_to) && to != from) ? "X" : ".";
    }
    matrix[from] = row;
  }
  return matrix;
}

Json DenyAllInX() {
  return Json::parse(R"({
    "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
    "metadata": {"namespace": "x", "name": "deny"},
    "spec": {"podSelector": {}}})");
}

Json TwoStepCase() {
  Json c = {{"name", "deny-x"}, {"steps", Json::array()}};
  c["steps"].push_back({{"actions", Json::array({{{"createPolicy", DenyAllInX()}}})},
                        {"probes", Json::array({{{"port", 80}, {"protocol", "TCP"},
                                                 {"matrix", Matrix("x/")}}})}});
  c["steps"].push_back(
      {{"actions", Json::array({{{"deletePolicy", {{"namespace", "x"}, {"name", "deny"}}}}})},
       {"probes", Json::array({{{"port", 81}, {"protocol", "SCTP"}, {"matrix", Matrix()}}})}});
  return c;
}

TEST_CASE("ParseCase: the standard model and a two-step case") {
  auto c = ParseCase(TwoStepCase(), "two-step.json");
  REQUIRE(c.ok());
  CHECK(c->pods.size() == 9);
  CHECK(c->pods[3].Key() == "y/a");
  CHECK(c->pods[0].ports.size() == 6);
  CHECK(c->pods[0].ports[2].name == "serve-80-sctp");
  REQUIRE(c->steps.size() == 2);
  CHECK(c->steps[0].probes[0].expected[1][0] == false);  // x/b -> x/a blocked
  CHECK(c->steps[0].probes[0].expected[0][3] == true);   // x/a -> y/a allowed
  CHECK(c->steps[1].probes[0].protocol == Protocol::kSctp);
}

TEST_CASE("ParseCase: mistakes are errors that say where") {
  Json c = TwoStepCase();
  SECTION("an unknown field") {
    c["steps"][0]["probes"][0]["prot"] = "UDP";
    auto parsed = ParseCase(c, "f.json");
    REQUIRE(!parsed.ok());
    CHECK(std::string(parsed.status().message()) ==
          "f.json: steps[0].probes[0]: unknown field \"prot\" (expected one of port, protocol, "
          "matrix)");
  }
  SECTION("a short row") {
    c["steps"][0]["probes"][0]["matrix"]["y/b"] = "........";
    auto parsed = ParseCase(c, "f.json");
    REQUIRE(!parsed.ok());
    CHECK(std::string(parsed.status().message()) ==
          "f.json: steps[0].probes[0]: row y/b has 8 cells, not 9");
  }
  SECTION("an unknown action") {
    c["steps"][1]["actions"][0] = {{"deletePod", Json::object()}};
    CHECK(!ParseCase(c, "f.json").ok());
  }
  SECTION("an unknown protocol") {
    c["steps"][0]["probes"][0]["protocol"] = "ICMP";
    CHECK(!ParseCase(c, "f.json").ok());
  }
  SECTION("a missing row") {
    c["steps"][0]["probes"][0]["matrix"].erase("z/c");
    CHECK(!ParseCase(c, "f.json").ok());
  }
}

TEST_CASE("RunCase: passes a right case and reports a wrong cell") {
  auto c = ParseCase(TwoStepCase(), "two-step.json");
  REQUIRE(c.ok());
  for (int nodes : {1, 2}) {
    CompiledDataPath data_path;
    RunResult result = RunCase(*c, data_path, {.nodes = nodes});
    INFO(result.report);
    CHECK(result.passed);
    CHECK(result.probes == 2 * 72);
  }
  c->steps[0].probes[0].expected[4][0] = true;  // claims y/b -> x/a succeeds
  CompiledDataPath data_path;
  RunResult result = RunCase(*c, data_path, {.nodes = 2});
  CHECK(!result.passed);
  CHECK(result.report.find("1 cells differ") != std::string::npos);
  CHECK(result.report.find("X!") != std::string::npos);
}

TEST_CASE("RunCase: placeholders become pod addresses") {
  Json c = TwoStepCase();
  Json policy = DenyAllInX();
  policy["spec"]["ingress"] = Json::parse(R"([{"from": [{"ipBlock": {"cidr": "{{ip:z/c}}/32"}}]}])");
  c["steps"][0]["actions"][0]["createPolicy"] = policy;
  // Only z/c may still reach x's pods.
  Json matrix = Matrix("x/");
  matrix["z/c"] = ".........";
  c["steps"][0]["probes"][0]["matrix"] = matrix;
  auto parsed = ParseCase(c, "f.json");
  REQUIRE(parsed.ok());
  CompiledDataPath data_path;
  RunResult result = RunCase(*parsed, data_path, {.nodes = 2});
  INFO(result.report);
  CHECK(result.passed);
}

}  // namespace
}  // namespace weave::npc::conformance
