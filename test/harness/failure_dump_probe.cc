// A test binary that fails on purpose, so that harness_netns_test can check from the outside what
// a failing test prints: the logs of its cluster's processes. Built, never registered with CTest.
// Each test case starts a process that logs kProbeLine and then ends as its name says.
// The process computes the line, so that the command line in the log's header does not contain it.

#include <catch2/catch.hpp>
#include <stdexcept>

#include "absl/strings/match.h"
#include "test/harness/file_util.h"
#include "test/harness/netns_cluster.h"
#include "test/harness/status_assertions.h"

namespace weave::testing {
namespace {

constexpr char kProbeLine[] = "probe-42";

// A one-node cluster whose process has written kProbeLine to its log.
std::unique_ptr<NetnsCluster> ClusterWithLog() {
  ASSIGN_OR_REQUIRE(std::unique_ptr<NetnsCluster> cluster, NetnsCluster::Create(1));
  ASSIGN_OR_REQUIRE(
      Process* const process,
      cluster->node(1).Start("probe", {"sh", "-c", "echo probe-$((6 * 7)); exec sleep 300"}));
  REQUIRE_OK(
      WaitFor([&] { return absl::StrContains(ReadFileOrEmpty(process->log_path()), kProbeLine); },
              absl::Seconds(10), "the probe's output"));
  return cluster;
}

TEST_CASE("probe: a CHECK fails") {
  auto cluster = ClusterWithLog();
  CHECK(false);
}

TEST_CASE("probe: an exception escapes") {
  auto cluster = ClusterWithLog();
  throw std::runtime_error("probe exception");
}

TEST_CASE("probe: passes") { auto cluster = ClusterWithLog(); }

}  // namespace
}  // namespace weave::testing
