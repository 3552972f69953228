// Debian's python3-kubernetes client against the fake API server (python_client.py).
#include <unistd.h>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "test/harness/file_util.h"
#include "test/harness/subprocess.h"
#include "test/harness/wait_for.h"
#include "test/kube/server_fixture.h"

namespace weave::testing::kube {
namespace {

// /usr/bin/python3, not whatever python3 is first on PATH: the package installs for Debian's.
constexpr char kPython[] = "/usr/bin/python3";

void RequirePythonClient() {
  absl::StatusOr<CommandResult> probe =
      RunCommand({kPython, "-c", "import kubernetes"}, absl::Seconds(60));
  if (!probe.ok() || !probe->exit.success()) {
    FAIL("Debian's Python Kubernetes client is missing ("
         << kPython
         << " cannot import kubernetes): apt-get install python3-kubernetes (scripts/setup.sh)");
  }
}

std::vector<std::string> Script(const ServerFixture& f, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kPython, PYTHON_CLIENT_SCRIPT, f.kubeconfig};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

TEST_CASE("the Python client lists nodes", "[kube][python]") {
  RequirePythonClient();
  ServerFixture f;
  REQUIRE(f.client->Post("/api/v1/nodes", {{"metadata", {{"name", "node-1"}}}}).code == 201);
  ASSIGN_OR_REQUIRE(CommandResult result, RunCommand(Script(f, {"list-nodes"}), absl::Seconds(60)));
  INFO(result.stdout_data << result.stderr_data);
  REQUIRE(result.exit.success());
  CHECK_THAT(result.stdout_data, Catch::Contains("node node-1"));
  CHECK_THAT(result.stdout_data,
             Catch::Contains(absl::StrCat("version ", f.server->store().resource_version())));
}

TEST_CASE("the Python client's watch sees an ADDED pod and ends at its timeout", "[kube][python]") {
  RequirePythonClient();
  ServerFixture f;
  const std::string log = f.dir.path() + "/watch.log";
  ASSIGN_OR_REQUIRE(auto watch, Process::Start(Script(f, {"watch-pods", "default", "3"}),
                                               {{}, log, std::nullopt}));
  REQUIRE_OK(WaitFor([&] { return f.Requested("GET /api/v1/namespaces/default/pods?"); },
                     absl::Seconds(30), "the Python client to start watching"));
  REQUIRE(f.CreatePod("web").code == 201);
  absl::Status seen = WaitFor([&] { return absl::StrContains(ReadFileOrEmpty(log), "ADDED web"); },
                              absl::Seconds(20), "the Python client to print the event");
  INFO(ReadFileOrEmpty(log));
  CHECK_OK(seen);
  ASSIGN_OR_REQUIRE(ExitStatus exit, watch->Wait(absl::Seconds(20)));
  CHECK(exit.success());
  CHECK_THAT(ReadFileOrEmpty(log), Catch::Contains("event BOOKMARK"));  // it asked for them
  CHECK_THAT(ReadFileOrEmpty(log), Catch::Contains("end"));
}

TEST_CASE("the Python client's watch from an expired version ends in a 410", "[kube][python]") {
  RequirePythonClient();
  FakeApiServerOptions options;
  options.store.history_limit = 1;
  ServerFixture f(options);
  ApiAnswer old = f.CreatePod("a");
  REQUIRE(f.CreatePod("b").code == 201);
  REQUIRE(f.CreatePod("c").code == 201);  // the history now starts after b
  ASSIGN_OR_REQUIRE(
      CommandResult result,
      RunCommand(Script(f, {"watch-pods", "default", "5",
                            old.body["metadata"]["resourceVersion"].get<std::string>()}),
                 absl::Seconds(60)));
  INFO(result.stdout_data << result.stderr_data);
  CHECK_THAT(result.stdout_data, Catch::Contains("error 410 Expired"));
}

}  // namespace
}  // namespace weave::testing::kube
