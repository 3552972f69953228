#include "test/harness/subprocess.h"

#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "test/harness/file_util.h"
#include "test/harness/status_assertions.h"
#include "test/harness/wait_for.h"

namespace weave::testing {
namespace {

using ::Catch::Matchers::Contains;

// A fresh directory for one test case, removed at its end.
class ScratchDir {
 public:
  ScratchDir()
      : path_(std::filesystem::temp_directory_path() /
              absl::StrCat("wvt-unit-", getpid(), "-", next_id_++)) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  static inline int next_id_ = 0;
  std::filesystem::path path_;
};

absl::Duration Since(std::chrono::steady_clock::time_point start) {
  return absl::FromChrono(std::chrono::steady_clock::now() - start);
}

TEST_CASE("RunCommand captures stdout and stderr separately and the exit code") {
  ASSIGN_OR_REQUIRE(const CommandResult result,
                    RunCommand({"sh", "-c", "echo out; echo err >&2; exit 3"}, absl::Seconds(10)));
  CHECK(result.stdout_data == "out\n");
  CHECK(result.stderr_data == "err\n");
  CHECK(result.exit.code == 3);
  CHECK(result.exit.signal == 0);
  CHECK(result.ToStatus().code() == absl::StatusCode::kInternal);
  CHECK_THAT(std::string(result.ToStatus().message()), Contains("exit code 3") && Contains("err"));
}

TEST_CASE("RunCommand delivers stdin and then closes it") {
  SECTION("a CNI-sized document") {
    const std::string config = R"({"cniVersion":"1.0.0","name":"weave","type":"weave-net"})";
    ASSIGN_OR_REQUIRE(const CommandResult result,
                      RunCommand({"cat"}, absl::Seconds(10), {.stdin_data = config}));
    CHECK(result.exit.success());
    CHECK(result.stdout_data == config);
  }
  SECTION("more than the pipes hold, echoed back while it is still being written") {
    const std::string big(4 << 20, 'x');
    ASSIGN_OR_REQUIRE(const CommandResult result,
                      RunCommand({"cat"}, absl::Seconds(20), {.stdin_data = big}));
    CHECK(result.exit.success());
    CHECK(result.stdout_data.size() == big.size());
  }
  SECTION("a child that does not read its input") {
    ASSIGN_OR_REQUIRE(
        const CommandResult result,
        RunCommand({"true"}, absl::Seconds(10), {.stdin_data = std::string(1 << 20, 'x')}));
    CHECK(result.exit.success());
  }
}

TEST_CASE("RunCommand adds to the environment and the last setting of a variable wins") {
  REQUIRE(getenv("HOME") != nullptr);
  ASSIGN_OR_REQUIRE(
      const CommandResult result,
      RunCommand(
          {"sh", "-c", R"(printf '%s %s' "$WVT_GREETING" "$HOME")"}, absl::Seconds(10),
          {.env = {{"WVT_GREETING", "hello"}, {"HOME", "/nowhere"}, {"WVT_GREETING", "goodbye"}}}));
  CHECK(result.stdout_data == "goodbye /nowhere");
}

TEST_CASE("RunCommand kills a command that overruns its deadline") {
  const auto start = std::chrono::steady_clock::now();
  const absl::StatusOr<CommandResult> result = RunCommand({"sleep", "30"}, absl::Milliseconds(200));
  CHECK(result.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK_THAT(std::string(result.status().message()), Contains("sleep 30"));
  CHECK(Since(start) < absl::Seconds(5));
}

TEST_CASE("RunCommand kills the children of a command that overruns its deadline") {
  ScratchDir dir;
  const std::string pid_file = dir.File("pid");
  const absl::StatusOr<CommandResult> result = RunCommand(
      {"sh", "-c", absl::StrCat("sleep 31 & echo $! > ", pid_file, "; wait")}, absl::Seconds(1));
  CHECK(result.status().code() == absl::StatusCode::kDeadlineExceeded);
  pid_t grandchild = 0;
  REQUIRE(absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFileOrEmpty(pid_file)), &grandchild));
  CHECK_OK(WaitFor([&] { return !ProcessAlive(grandchild); }, absl::Seconds(5),
                   "the backgrounded sleep to die"));
}

TEST_CASE("RunCommand returns when the command exits even if a child holds its output open") {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_REQUIRE(const CommandResult result,
                    RunCommand({"sh", "-c", "sleep 30 & echo started"}, absl::Seconds(20)));
  CHECK(result.stdout_data == "started\n");
  CHECK(Since(start) < absl::Seconds(10));
}

TEST_CASE("RunCommand reports a missing program as NotFound") {
  const absl::StatusOr<CommandResult> result =
      RunCommand({"wvt-no-such-program"}, absl::Seconds(10));
  CHECK(result.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(result.status().message()), Contains("wvt-no-such-program"));
}

TEST_CASE("Process logs stdout and stderr after a header naming the command") {
  ScratchDir dir;
  ASSIGN_OR_REQUIRE(std::unique_ptr<Process> process,
                    Process::Start({"sh", "-c", "echo to-stdout; echo to-stderr >&2"},
                                   {.log_path = dir.File("p.log")}));
  ASSIGN_OR_REQUIRE(const ExitStatus exit, process->Wait(absl::Seconds(10)));
  CHECK(exit.success());
  CHECK(process->log_path() == dir.File("p.log"));
  CHECK_THAT(ReadFileOrEmpty(process->log_path()), Contains("==== starting: sh -c") &&
                                                       Contains("to-stdout\n") &&
                                                       Contains("to-stderr\n"));
}

TEST_CASE("Process::Stop terminates a running process") {
  ScratchDir dir;
  ASSIGN_OR_REQUIRE(std::unique_ptr<Process> process,
                    Process::Start({"sleep", "30"}, {.log_path = dir.File("sleep.log")}));
  CHECK(process->Running());
  ASSIGN_OR_REQUIRE(const ExitStatus exit, process->Stop(absl::Seconds(5)));
  CHECK(exit.signal == SIGTERM);
  CHECK_FALSE(process->Running());
  CHECK_FALSE(ProcessAlive(process->pid()));
  ASSIGN_OR_REQUIRE(const ExitStatus again, process->Stop(absl::Seconds(5)));
  CHECK(again.signal == SIGTERM);
}

TEST_CASE("Process::Stop escalates to SIGKILL when SIGTERM is ignored") {
  ScratchDir dir;
  // An ignored signal stays ignored across exec, so sleep ignores SIGTERM too.
  ASSIGN_OR_REQUIRE(std::unique_ptr<Process> process,
                    Process::Start({"sh", "-c", "trap '' TERM; echo ready; exec sleep 30"},
                                   {.log_path = dir.File("stubborn.log")}));
  // "\nready\n" is the shell's output; the log's header line names the command, "ready" included.
  REQUIRE_OK(
      WaitFor([&] { return absl::StrContains(ReadFileOrEmpty(process->log_path()), "\nready\n"); },
              absl::Seconds(10), "the shell to ignore SIGTERM"));
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_REQUIRE(const ExitStatus exit, process->Stop(absl::Milliseconds(200)));
  CHECK(exit.signal == SIGKILL);
  CHECK(Since(start) < absl::Seconds(5));
}

TEST_CASE("Process::Wait times out while the process runs and reports how it ended") {
  ScratchDir dir;
  ASSIGN_OR_REQUIRE(std::unique_ptr<Process> process,
                    Process::Start({"sleep", "30"}, {.log_path = dir.File("sleep.log")}));
  CHECK(process->Wait(absl::Milliseconds(50)).status().code() ==
        absl::StatusCode::kDeadlineExceeded);
  REQUIRE_OK(process->Signal(SIGINT));
  ASSIGN_OR_REQUIRE(const ExitStatus exit, process->Wait(absl::Seconds(10)));
  CHECK(exit.signal == SIGINT);
  CHECK(process->Signal(SIGINT).code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("A destroyed Process leaves nothing running") {
  ScratchDir dir;
  ASSIGN_OR_REQUIRE(std::unique_ptr<Process> process,
                    Process::Start({"sleep", "30"}, {.log_path = dir.File("sleep.log")}));
  const pid_t pid = process->pid();
  REQUIRE(ProcessAlive(pid));
  process.reset();
  CHECK_FALSE(ProcessAlive(pid));
}

TEST_CASE("A child dies with the thread that started it") {
  ScratchDir dir;
  absl::StatusOr<std::unique_ptr<Process>> started;
  std::thread starter([&] {
    started = Process::Start({"sleep", "30"}, {.log_path = dir.File("orphan.log")});
  });
  starter.join();
  ASSIGN_OR_REQUIRE(std::unique_ptr<Process> process, std::move(started));
  ASSIGN_OR_REQUIRE(const ExitStatus exit, process->Wait(absl::Seconds(10)));
  CHECK(exit.signal == SIGKILL);
}

TEST_CASE("Process::Start reports what it cannot do") {
  ScratchDir dir;
  CHECK(Process::Start({"sleep", "1"}, {}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Process::Start({"wvt-no-such-program"}, {.log_path = dir.File("x.log")}).status().code() ==
        absl::StatusCode::kNotFound);
  CHECK_FALSE(Process::Start({"sleep", "1"}, {.log_path = dir.File("no/such/dir.log")}).ok());
}

}  // namespace
}  // namespace weave::testing
