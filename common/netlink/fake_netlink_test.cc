#include "common/netlink/fake_netlink.h"

#include <catch2/catch.hpp>

#include "common/netlink/netlink_conformance.h"
#include "test/harness/status_assertions.h"

namespace weave::netlink {
namespace {

// Stands for the pod's namespace fd; any number will do for fakes.
constexpr int kPodFd = 7;

// A host and a pod namespace, the pod reachable through kPodFd.
struct FakeNamespaces {
  FakeNamespaces() { host.AddNamespace(kPodFd, &pod); }

  testing::ConformanceEnv env() {
    return {.host = &host,
            .peer = &pod,
            .peer_netns_fd = kPodFd,
            .hairpin = [this](const std::string& port) { return host.Hairpin(port); },
            .isolated = [this](const std::string& port) { return host.Isolated(port); },
            .send_frame = [this](const std::string& sender) { return host.SendFrame(sender); }};
  }

  FakeNetlink pod;  // Declared first, destroyed last.
  FakeNetlink host;
};

TEST_CASE("netlink fake: behaves as the kernel", "[netlink][conformance]") {
  for (const testing::ConformanceScenario& scenario : testing::ConformanceScenarios()) {
    DYNAMIC_SECTION(scenario.name) {
      FakeNamespaces namespaces;
      scenario.check(namespaces.env());
    }
  }
}

TEST_CASE("netlink fake: an injected failure fails one call and changes nothing", "[netlink]") {
  FakeNetlink nl;
  nl.FailNextCall(absl::UnavailableError("injected"));
  CHECK(nl.CreateBridge("weave", 1376).code() == absl::StatusCode::kUnavailable);
  CHECK(nl.GetLink("weave").status().code() == absl::StatusCode::kNotFound);
  REQUIRE_OK(nl.CreateBridge("weave", 1376));
}

TEST_CASE("netlink fake: an unknown namespace fd fails as a bad fd", "[netlink]") {
  FakeNetlink nl;
  const absl::Status status = nl.CreateVethPair("vethwepl1", "eth0", 1376, 99);
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(status.message() == "creating veth vethwepl1 with peer eth0 in namespace fd 99: EBADF");
  CHECK(nl.GetLink("vethwepl1").status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("netlink fake: a namespace going away takes veth peers with it", "[netlink]") {
  FakeNetlink host;
  {
    FakeNetlink pod;
    host.AddNamespace(kPodFd, &pod);
    REQUIRE_OK(host.CreateVethPair("vethwepl1", "eth0", 1376, kPodFd));
    REQUIRE_OK(host.CreateVethPair("vethwepl2", "eth1", 1376, kPodFd));
    REQUIRE_OK(pod.DeleteLink("eth1"));
    CHECK(host.GetLink("vethwepl2").status().code() == absl::StatusCode::kNotFound);
  }
  CHECK(host.GetLink("vethwepl1").status().code() == absl::StatusCode::kNotFound);
  CHECK(host.ListLinks()->size() == 1);
}

TEST_CASE("netlink fake: indexes are not reused and MACs differ", "[netlink]") {
  FakeNetlink nl;
  REQUIRE_OK(nl.CreateBridge("a", 1500));
  ASSIGN_OR_REQUIRE(const LinkInfo first, nl.GetLink("a"));
  REQUIRE_OK(nl.DeleteLink("a"));
  REQUIRE_OK(nl.CreateBridge("a", 1500));
  ASSIGN_OR_REQUIRE(const LinkInfo second, nl.GetLink("a"));
  CHECK(second.index > first.index);
  CHECK(second.mac != first.mac);
  CHECK_OK(ValidateUnicastMac(second.mac));
}

}  // namespace
}  // namespace weave::netlink
