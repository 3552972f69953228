#include "test/harness/netns_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <sstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "test/harness/file_util.h"
#include "test/harness/netns.h"
#include "test/harness/status_assertions.h"
#include "test/harness/test_run.h"

namespace weave::testing {
namespace {

using ::Catch::Matchers::Contains;

TEST_CASE("Cluster nodes reach each other over the underlay", "[netns]") {
  ASSIGN_OR_REQUIRE(std::unique_ptr<NetnsCluster> cluster, NetnsCluster::Create(2));
  NetnsNode& node1 = cluster->node(1);
  NetnsNode& node2 = cluster->node(2);
  CHECK(node1.name() == RunPrefix(getpid()) + "-n1");
  CHECK(node1.address() == "192.168.250.11");
  CHECK(node2.address() == "192.168.250.12");

  ASSIGN_OR_REQUIRE(const CommandResult there,
                    node1.Exec({"ping", "-c1", "-W2", node2.address()}, absl::Seconds(10)));
  CHECK_OK(there.ToStatus());
  ASSIGN_OR_REQUIRE(const CommandResult back,
                    node2.Exec({"ping", "-c1", "-W2", node1.address()}, absl::Seconds(10)));
  CHECK_OK(back.ToStatus());

  ASSIGN_OR_REQUIRE(const CommandResult forwarding,
                    node1.Exec({"sysctl", "-n", "net.ipv4.ip_forward"}));
  CHECK(forwarding.stdout_data == "1\n");
}

TEST_CASE("Cluster nodes have distinct host identities and their own files", "[netns]") {
  ASSIGN_OR_REQUIRE(std::unique_ptr<NetnsCluster> cluster, NetnsCluster::Create(2));
  NetnsNode& node1 = cluster->node(1);
  NetnsNode& node2 = cluster->node(2);
  const std::string machine_id1 = ReadFileOrEmpty(node1.host_root() + "/etc/machine-id");
  const std::string machine_id2 = ReadFileOrEmpty(node2.host_root() + "/etc/machine-id");
  const std::string uuid1 = ReadFileOrEmpty(node1.host_root() + "/sys/class/dmi/id/product_uuid");
  const std::string uuid2 = ReadFileOrEmpty(node2.host_root() + "/sys/class/dmi/id/product_uuid");
  CHECK(std::regex_match(machine_id1, std::regex("[0-9a-f]{32}\n")));
  CHECK(std::regex_match(
      uuid1, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n")));
  CHECK(machine_id1 != machine_id2);
  CHECK(uuid1 != uuid2);

  CHECK(node1.dir() == cluster->work_dir() + "/node1");
  CHECK(node1.socket_path() == node1.dir() + "/weave.sock");
  CHECK(node1.db_prefix() == node1.dir() + "/weavedb/weave-net");
  CHECK(std::filesystem::is_directory(node1.dir() + "/weavedb"));
  CHECK_THROWS_AS(cluster->node(3), std::out_of_range);
}

TEST_CASE("Destroying a cluster removes its namespaces and processes and files", "[netns]") {
  ASSIGN_OR_REQUIRE(std::unique_ptr<NetnsCluster> cluster, NetnsCluster::Create(2));
  ASSIGN_OR_REQUIRE(Process* const sleeper, cluster->node(1).Start("sleeper", {"sleep", "300"}));
  const pid_t sleeper_pid = sleeper->pid();
  // A process in a node that the cluster did not start and does not know about.
  ASSIGN_OR_REQUIRE(
      std::unique_ptr<Process> stray,
      Process::Start({"sleep", "300"}, {.log_path = cluster->work_dir() + "/stray.log",
                                        .netns = cluster->node(2).name()}));
  const std::vector<std::string> namespaces = {cluster->underlay(), cluster->node(1).name(),
                                               cluster->node(2).name()};
  const std::string work_dir = cluster->work_dir();
  for (const std::string& ns : namespaces) REQUIRE(NamespaceExists(ns));
  REQUIRE(std::filesystem::exists(work_dir));

  cluster.reset();
  for (const std::string& ns : namespaces) CHECK_FALSE(NamespaceExists(ns));
  CHECK_FALSE(std::filesystem::exists(work_dir));
  CHECK_FALSE(ProcessAlive(sleeper_pid));
  ASSIGN_OR_REQUIRE(const ExitStatus stray_exit, stray->Wait(absl::ZeroDuration()));
  CHECK(stray_exit.signal == SIGKILL);
}

TEST_CASE("Cluster teardown is idempotent and keeps started processes inspectable", "[netns]") {
  ASSIGN_OR_REQUIRE(std::unique_ptr<NetnsCluster> cluster, NetnsCluster::Create(1));
  ASSIGN_OR_REQUIRE(Process* const sleeper, cluster->node(1).Start("sleeper", {"sleep", "300"}));
  REQUIRE_OK(cluster->Teardown());
  CHECK_FALSE(sleeper->Running());
  CHECK(sleeper->Wait(absl::ZeroDuration()).ok());
  CHECK_OK(cluster->Teardown());
  CHECK_FALSE(NamespaceExists(cluster->underlay()));
}

TEST_CASE("A failed Create removes what it created and nothing else", "[netns]") {
  const std::string prefix = RunPrefix(getpid());
  const std::string taken = prefix + "-n2";  // Not the cluster's: creating node 2 will fail.
  REQUIRE_OK(AddNamespace(taken));
  absl::Cleanup remove = [&] { (void)DeleteNamespace(taken); };

  const absl::StatusOr<std::unique_ptr<NetnsCluster>> cluster = NetnsCluster::Create(2);
  CHECK_FALSE(cluster.ok());
  CHECK_THAT(std::string(cluster.status().message()), Contains(taken));
  CHECK_FALSE(NamespaceExists(prefix + "-u"));
  CHECK_FALSE(NamespaceExists(prefix + "-n1"));
  CHECK_FALSE(std::filesystem::exists(RunWorkDir(getpid())));
  CHECK(NamespaceExists(taken));

  // The failed attempt does not count as a live cluster.
  CHECK_OK(NetnsCluster::Create(1));
}

TEST_CASE("A process has one live cluster at a time", "[netns]") {
  ASSIGN_OR_REQUIRE(std::unique_ptr<NetnsCluster> cluster, NetnsCluster::Create(1));
  CHECK(NetnsCluster::Create(1).status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(NetnsCluster::Create(0).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("DumpLogs shows the end of every process log under a header naming node and label",
          "[netns]") {
  ASSIGN_OR_REQUIRE(std::unique_ptr<NetnsCluster> cluster, NetnsCluster::Create(2));
  ASSIGN_OR_REQUIRE(Process* const counter, cluster->node(2).Start("counter", {"seq", "1", "150"}));
  ASSIGN_OR_REQUIRE(const ExitStatus exit, counter->Wait(absl::Seconds(10)));
  REQUIRE(exit.success());
  CHECK(counter->log_path() == cluster->node(2).dir() + "/counter.log");

  std::ostringstream dump;
  cluster->DumpLogs(dump, 100);
  CHECK_THAT(dump.str(), Contains("node 2 (" + cluster->node(2).name() + ") counter") &&
                             Contains("\n51\n") && Contains("\n150\n"));
  CHECK_THAT(dump.str(), !Contains("\n50\n"));
}

TEST_CASE("A failing test prints the logs of its cluster's processes", "[netns]") {
  constexpr char kProbeLine[] = "probe-42";  // What failure_dump_probe.cc's process logs.
  struct Probe {
    const char* test_case;
    bool fails;
  };
  for (const Probe& probe :
       {Probe{"probe: a CHECK fails", true}, Probe{"probe: an exception escapes", true},
        Probe{"probe: passes", false}}) {
    INFO(probe.test_case);
    ASSIGN_OR_REQUIRE(const CommandResult run,
                      RunCommand({WEAVE_FAILURE_DUMP_PROBE, probe.test_case}, absl::Seconds(60)));
    CHECK(run.exit.success() != probe.fails);
    const bool dumped = absl::StrContains(run.stderr_data, ") probe: last 100 lines of ") &&
                        absl::StrContains(run.stderr_data, kProbeLine);
    CHECK(dumped == probe.fails);
  }
}

}  // namespace
}  // namespace weave::testing
