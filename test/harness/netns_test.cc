#include "test/harness/netns.h"
#include "test/harness/wait_for.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "test/harness/status_assertions.h"
#include "test/harness/subprocess.h"
#include "test/harness/test_run.h"

namespace weave::testing {
namespace {

using ::Catch::Matchers::Contains;

// The pid of a process that has come and gone.
pid_t DeadPid() {
  const pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

TEST_CASE("DeleteNamespace kills what runs inside and is idempotent", "[netns]") {
  const std::string ns = RunPrefix(getpid()) + "-delete";
  REQUIRE_OK(AddNamespace(ns));
  absl::Cleanup remove = [&] { (void)DeleteNamespace(ns); };
  const std::string log = absl::StrCat("/tmp/", ns, ".log");
  absl::Cleanup remove_log = [&] { std::filesystem::remove(log); };
  ASSIGN_OR_REQUIRE(std::unique_ptr<Process> sleeper,
                    Process::Start({"sleep", "300"}, {.log_path = log, .netns = ns}));
  // The child enters the namespace just after it starts: under load that takes a moment.
  std::vector<pid_t> pids;
  CHECK_OK(WaitFor(
      [&] {
        absl::StatusOr<std::vector<pid_t>> found = NamespacePids(ns);
        if (found.ok()) pids = *found;
        return pids == std::vector<pid_t>{sleeper->pid()};
      },
      absl::Seconds(5), "the sleeper to run inside the namespace"));

  REQUIRE_OK(DeleteNamespace(ns));
  CHECK_FALSE(NamespaceExists(ns));
  ASSIGN_OR_REQUIRE(const ExitStatus exit, sleeper->Wait(absl::Seconds(5)));
  CHECK(exit.signal == SIGKILL);
  CHECK_OK(DeleteNamespace(ns));
}

TEST_CASE("SweepStaleRuns removes the leftovers of dead runs only", "[netns]") {
  const pid_t dead = DeadPid();
  const std::string stale_ns = RunPrefix(dead) + "-n1";
  const std::string stale_dir = RunWorkDir(dead);
  const std::string live_ns = RunPrefix(getpid()) + "-sweep";
  REQUIRE_OK(AddNamespace(stale_ns));
  REQUIRE_OK(AddNamespace(live_ns));
  std::filesystem::create_directories(stale_dir + "/node1");
  absl::Cleanup remove = [&] {
    (void)DeleteNamespace(stale_ns);
    (void)DeleteNamespace(live_ns);
    std::filesystem::remove_all(stale_dir);
  };

  std::ostringstream report;
  REQUIRE_OK(SweepStaleRuns({}, report));
  CHECK_FALSE(NamespaceExists(stale_ns));
  CHECK_FALSE(std::filesystem::exists(stale_dir));
  CHECK(NamespaceExists(live_ns));
  CHECK_THAT(report.str(), Contains(stale_ns) && Contains(stale_dir));
}

}  // namespace
}  // namespace weave::testing
