#include "cni-plugin/ipam_delegate.h"

#include <catch2/catch.hpp>

#include "cni-plugin/testing/test_util.h"
#include "test/harness/file_util.h"
#include "test/harness/status_assertions.h"

namespace weave::cni {
namespace {

using ::Catch::Matchers::Contains;
using testing::CniCode;
using testing::ScratchDir;

TEST_CASE("FindPlugin searches CNI_PATH for an executable file", "[delegate]") {
  ScratchDir dir;
  std::filesystem::create_directories(dir.File("a"));
  std::filesystem::create_directories(dir.File("b"));
  std::filesystem::create_directories(dir.File("a/dir-plugin"));
  dir.Write("a/host-local", "not executable");
  const std::string wanted = dir.Write("b/host-local", "#!/bin/sh\n", /*executable=*/true);
  const std::string path = absl::StrCat(dir.File("a"), "::", dir.File("b"));

  ASSIGN_OR_REQUIRE(const std::string found, FindPlugin("host-local", path));
  CHECK(found == wanted);

  const absl::Status missing = FindPlugin("dhcp", path).status();
  CHECK(CniCode(missing) == kErrInvalidConfig);
  CHECK_THAT(std::string(missing.message()),
             Contains("ipam plugin dhcp not found in CNI_PATH") && Contains(dir.File("b")));
  CHECK(CniCode(FindPlugin("dir-plugin", path).status()) == kErrInvalidConfig);
  CHECK(CniCode(FindPlugin("../b/host-local", path).status()) == kErrInvalidConfig);
  CHECK(CniCode(FindPlugin("..", path).status()) == kErrInvalidConfig);
  const absl::Status no_path = FindPlugin("host-local", "").status();
  CHECK(CniCode(no_path) == kErrInvalidEnvironment);
  CHECK_THAT(std::string(no_path.message()), Contains("CNI_PATH is not set"));
}

TEST_CASE("ExecIpamDelegate runs the plugin with our stdin and environment", "[delegate]") {
  ScratchDir dir;
  // Records its command, an inherited variable and its stdin; prints a result.
  dir.Write("recorder",
            "#!/bin/sh\n"
            "echo \"$CNI_COMMAND $CNI_CONTAINERID\" > \"$(dirname \"$0\")/args\"\n"
            "cat > \"$(dirname \"$0\")/stdin\"\n"
            "echo '{\"ips\":[{\"address\":\"10.1.0.2/16\"}]}'\n",
            /*executable=*/true);
  ExecIpamDelegate delegate({"CNI_COMMAND=ADD", "CNI_CONTAINERID=abc",
                             absl::StrCat("CNI_PATH=", dir.path()), "PATH=/usr/bin:/bin"},
                            absl::Seconds(10));

  ASSIGN_OR_REQUIRE(const std::string output,
                    delegate.Run("recorder", Command::kDel, R"({"cniVersion":"1.0.0"})"));
  CHECK(output == "{\"ips\":[{\"address\":\"10.1.0.2/16\"}]}\n");
  CHECK(weave::testing::ReadFileOrEmpty(dir.File("args")) == "DEL abc\n");
  CHECK(weave::testing::ReadFileOrEmpty(dir.File("stdin")) == R"({"cniVersion":"1.0.0"})");
}

TEST_CASE("ExecIpamDelegate carries the plugin's CNI error over", "[delegate]") {
  ScratchDir dir;
  dir.Write("failing",
            "#!/bin/sh\n"
            "echo '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"range full\","
            "\"details\":\"10.1.0.0/16\"}'\n"
            "exit 1\n",
            /*executable=*/true);
  dir.Write("crashing", "#!/bin/sh\nexit 3\n", /*executable=*/true);
  ExecIpamDelegate delegate({absl::StrCat("CNI_PATH=", dir.path())}, absl::Seconds(10));

  const absl::Status failed = delegate.Run("failing", Command::kAdd, "{}").status();
  CHECK(CniErrorFromStatus(failed) ==
        CniError{kErrTryAgainLater, "ipam plugin failing: range full", "10.1.0.0/16"});

  const absl::Status crashed = delegate.Run("crashing", Command::kAdd, "{}").status();
  CHECK(CniCode(crashed) == kErrInternal);
  CHECK(crashed.message() ==
        "ipam plugin crashing failed with exit code 3 and no CNI error on stdout");
}

TEST_CASE("ExecIpamDelegate survives plugins that hang or ignore stdin", "[delegate]") {
  ScratchDir dir;
  dir.Write("hanging", "#!/bin/sh\nexec sleep 30\n", /*executable=*/true);
  dir.Write("deaf", "#!/bin/sh\nexec echo '{}'\n", /*executable=*/true);
  ExecIpamDelegate delegate({absl::StrCat("CNI_PATH=", dir.path()), "PATH=/usr/bin:/bin"},
                            absl::Milliseconds(300));

  const absl::Time start = absl::Now();
  const absl::Status hung = delegate.Run("hanging", Command::kAdd, "{}").status();
  CHECK(absl::Now() - start < absl::Seconds(10));
  CHECK(hung.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(CniCode(hung) == kErrTryAgainLater);

  // Much more input than a socket buffer holds, to a plugin that never reads it: no SIGPIPE.
  ASSIGN_OR_REQUIRE(const std::string output,
                    delegate.Run("deaf", Command::kAdd, std::string(4 << 20, ' ')));
  CHECK(output == "{}\n");
}

}  // namespace
}  // namespace weave::cni
