// NetnsFd, RunInNetns and OpenNetlinkIn on real namespace files. Needs root.
#include "common/netlink/netns.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

#include "absl/cleanup/cleanup.h"
#include "common/netlink/netlink.h"
#include "test/harness/netns.h"
#include "test/harness/status_assertions.h"
#include "test/harness/test_run.h"

namespace weave::netlink {
namespace {

using ::Catch::Matchers::Contains;

ino_t InodeOf(const char* path) {
  struct stat st {};
  REQUIRE(stat(path, &st) == 0);
  return st.st_ino;
}

TEST_CASE("netlink netns: NetnsFd accepts network namespaces only, naming the path", "[netns]") {
  const absl::StatusOr<NetnsFd> missing = NetnsFd::Open("/run/netns/no-such-namespace");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(missing.status().message()), Contains("/run/netns/no-such-namespace"));

  const std::string plain = "/tmp/" + weave::testing::RunPrefix(getpid()) + "-not-a-netns";
  std::ofstream(plain) << "x";
  absl::Cleanup remove = [&] { std::remove(plain.c_str()); };
  const absl::StatusOr<NetnsFd> file = NetnsFd::Open(plain);
  CHECK(file.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(file.status().message() == plain + " is not a namespace");

  const absl::StatusOr<NetnsFd> mount = NetnsFd::Open("/proc/self/ns/mnt");
  CHECK(mount.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(mount.status().message() ==
        "/proc/self/ns/mnt is a mount namespace, not a network namespace");

  ASSIGN_OR_REQUIRE(NetnsFd own, NetnsFd::Open("/proc/self/ns/net"));
  CHECK(own.fd() >= 0);
  CHECK(own.path() == "/proc/self/ns/net");
  NetnsFd moved = std::move(own);
  CHECK(moved.fd() >= 0);
  CHECK(own.fd() == -1);  // NOLINT(bugprone-use-after-move): a moved-from NetnsFd owns nothing.
}

TEST_CASE("netlink netns: OpenNetlinkIn refuses what is not a network namespace", "[netns]") {
  const auto missing = OpenNetlinkIn("/run/netns/no-such-namespace");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(missing.status().message()), Contains("/run/netns/no-such-namespace"));
  const auto uts = OpenNetlinkIn("/proc/self/ns/uts");
  CHECK(uts.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(uts.status().message()), Contains("/proc/self/ns/uts"));
}

TEST_CASE("netlink netns: RunInNetns runs inside the namespace and leaves the caller where it was",
          "[netns]") {
  const std::string name = weave::testing::RunPrefix(getpid()) + "-nlrun";
  REQUIRE_OK(weave::testing::AddNamespace(name));
  absl::Cleanup remove = [&] { (void)weave::testing::DeleteNamespace(name); };
  const std::string path = "/run/netns/" + name;
  const ino_t own = InodeOf("/proc/thread-self/ns/net");
  const ino_t target = InodeOf(path.c_str());
  REQUIRE(own != target);

  ino_t inside = 0;
  REQUIRE_OK(RunInNetns(path, [&] {
    struct stat st {};
    if (stat("/proc/thread-self/ns/net", &st) == 0) inside = st.st_ino;
    return absl::OkStatus();
  }));
  CHECK(inside == target);
  CHECK(InodeOf("/proc/thread-self/ns/net") == own);

  CHECK(RunInNetns(path, [] { return absl::CancelledError("from fn"); }) ==
        absl::CancelledError("from fn"));
  CHECK(RunInNetns("/proc/self/ns/ipc", [] { return absl::OkStatus(); }).code() ==
        absl::StatusCode::kInvalidArgument);

  // A Netlink opened there acts there, whatever thread uses it.
  ASSIGN_OR_REQUIRE(std::unique_ptr<Netlink> there, OpenNetlinkIn(path));
  REQUIRE_OK(there->CreateBridge("br-there", 1500));
  ASSIGN_OR_REQUIRE(std::unique_ptr<Netlink> here, OpenNetlink());
  CHECK(here->GetLink("br-there").status().code() == absl::StatusCode::kNotFound);
  CHECK(InodeOf("/proc/thread-self/ns/net") == own);
}

}  // namespace
}  // namespace weave::netlink
