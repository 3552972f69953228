// The real weaver binary refuses bad configuration with one clear line and a non-zero exit,
// before it touches anything (no socket, no listener). Runs without root.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"

namespace weave::testing {
namespace {

TEST_CASE("weaver exits non-zero with one line naming a bad variable", "[config]") {
  std::string socket = absl::StrCat("/tmp/weaver-config-test-", getpid(), "/weave.sock");
  struct Case {
    const char* variable;
    const char* value;
    const char* expected;
  };
  Case cases[] = {
      {"IPALLOC_RANGE", "10.32.0.0/33", "expected an IPv4 network in CIDR form"},
      {"CONN_LIMIT", "-1", "expected a whole number, 0 or more (0 means unlimited)"},
      {"WEAVE_MTU", "abc", "expected a whole number of bytes from 576 to 65535"},
      {"IPALLOC_INIT", "leader", "expected consensus, consensus=<number of nodes>"},
      {"EXPECT_NPC", "perhaps", "expected 1 or 0"},
  };
  for (const Case& c : cases) {
    INFO(c.variable << "=" << c.value);
    ASSIGN_OR_REQUIRE(CommandResult result,
                      RunCommand({WEAVER_PATH, "--socket", socket}, absl::Seconds(10),
                                 {.env = {{c.variable, c.value}}}));
    CHECK(result.exit.code == 1);
    CHECK(result.stdout_data.empty());
    CHECK(std::count(result.stderr_data.begin(), result.stderr_data.end(), '\n') == 1);
    CHECK_THAT(result.stderr_data,
               Catch::Contains(absl::StrCat("invalid ", c.variable, " (")) &&
                   Catch::Contains(absl::StrCat("\"", c.value, "\"")) &&
                   Catch::Contains(c.expected) && Catch::StartsWith("FATA: "));
    CHECK_FALSE(std::filesystem::exists(socket));
  }
}

TEST_CASE("weave-npc and weave-net reject bad input clearly", "[config]") {
  ASSIGN_OR_REQUIRE(CommandResult npc,
                    RunCommand({WEAVE_NPC_PATH, "--allow-mcast=sometimes"}, absl::Seconds(10)));
  CHECK(npc.exit.code == 1);
  CHECK_THAT(npc.stderr_data, Catch::Contains("invalid --allow-mcast \"sometimes\""));

  ASSIGN_OR_REQUIRE(CommandResult version,
                    RunCommand({WEAVE_NET_PATH}, absl::Seconds(10),
                               {.env = {{"CNI_COMMAND", "VERSION"}}}));
  CHECK(version.exit.success());
  CHECK(version.stdout_data ==
        "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\","
        "\"1.0.0\",\"1.1.0\"]}\n");
}

}  // namespace
}  // namespace weave::testing
