// Starting the real weaver on a NetnsCluster node and talking to it with the real weave CLI,
// shared by the scenario tests. Header-only: the binary paths (WEAVER_PATH, WEAVE_CLI_PATH)
// are compile definitions of each test target (WEAVE_BINARY_PATHS in test/CMakeLists.txt).
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "test/harness/netns_cluster.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"

namespace weave::testing {

// weaver's command line for `node`: its own socket, host root and store.
inline std::vector<std::string> WeaverArgs(const NetnsNode& node) {
  return {WEAVER_PATH, "--socket", node.socket_path(), "--host-root", node.host_root(),
          "--db-prefix", node.db_prefix()};
}

// The environment every test router gets: no policy controller yet, the node's nickname.
inline Environment WeaverEnv(const NetnsNode& node) {
  return {{"EXPECT_NPC", "0"}, {"HOSTNAME", absl::StrCat("node", node.index())}};
}

// `weave --socket <node's socket> args...`, run inside the node's namespace.
inline absl::StatusOr<CommandResult> WeaveCli(const NetnsNode& node,
                                              const std::vector<std::string>& args) {
  std::vector<std::string> argv = {WEAVE_CLI_PATH, "--socket", node.socket_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return node.Exec(argv, absl::Seconds(10));
}

// Starts weaver on `node` with its test environment and arguments plus `extra_env` and
// `extra_args`, without waiting.
inline Process* LaunchWeaver(NetnsNode& node, const Environment& extra_env,
                             const std::vector<std::string>& extra_args) {
  Environment env = WeaverEnv(node);
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  std::vector<std::string> args = WeaverArgs(node);
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  ASSIGN_OR_REQUIRE(Process * weaver, node.Start("weaver", args, env));
  return weaver;
}

// Starts weaver and waits only until it serves its API: with peers, IPAM (and so
// "Status: ready") may wait for consensus with nodes not started yet.
inline Process* StartWeaverServing(NetnsNode& node, const Environment& extra_env = {},
                                   const std::vector<std::string>& extra_args = {}) {
  Process* weaver = LaunchWeaver(node, extra_env, extra_args);
  REQUIRE_OK(WaitFor(
      [&] {
        absl::StatusOr<CommandResult> status = WeaveCli(node, {"status"});
        return status.ok() && status->exit.success() &&
               absl::StrContains(status->stdout_data, "Service: router");
      },
      absl::Seconds(15), "weaver to serve its API"));
  return weaver;
}

// Starts weaver and waits until it is ready as the readiness probe sees it (`weave report`
// says ready): IPAM's ring exists, the bridge has its address, pods can attach.
inline Process* StartWeaver(NetnsNode& node, const Environment& extra_env = {},
                            const std::vector<std::string>& extra_args = {}) {
  Process* weaver = LaunchWeaver(node, extra_env, extra_args);
  REQUIRE_OK(WaitFor(
      [&] {
        absl::StatusOr<CommandResult> report = WeaveCli(node, {"report"});
        return report.ok() && report->exit.success() &&
               absl::StrContains(report->stdout_data, "\"ready\": true");
      },
      absl::Seconds(15), "weaver to be ready"));
  return weaver;
}

}  // namespace weave::testing
