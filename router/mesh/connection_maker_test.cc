#include "router/mesh/connection_maker.h"

#include <catch2/catch.hpp>

namespace weave::mesh {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

auto AllowAll() {
  return [](absl::string_view, std::optional<PeerName>) { return true; };
}

ConnectionMaker MakeMaker(double jitter = 0.5) {
  return ConnectionMaker(BackoffOptions{}, [jitter] { return jitter; });
}

TEST_CASE("New targets are due at once and listed as connecting") {
  ConnectionMaker maker = MakeMaker();
  maker.AddTargets({"10.0.0.1:6783", "10.0.0.2:6783", "10.0.0.1:6783"});
  CHECK(maker.DirectTargets() == std::vector<std::string>{"10.0.0.1:6783", "10.0.0.2:6783"});
  CHECK(maker.Due(kStart, AllowAll()) ==
        std::vector<std::string>{"10.0.0.1:6783", "10.0.0.2:6783"});
  CHECK(maker.Due(kStart, AllowAll()).empty());  // attempting: not due twice
  std::vector<TargetStatus> status = maker.Status();
  REQUIRE(status.size() == 2);
  CHECK(status[0].state == "connecting");
}

TEST_CASE("Failures back off by half to one and a half intervals, growing by 1.5") {
  ConnectionMaker maker = MakeMaker(/*jitter=*/0.5);  // the middle: exactly one interval
  maker.AddTargets({"10.0.0.1:6783"});
  REQUIRE(maker.Due(kStart, AllowAll()).size() == 1);
  maker.Failed("10.0.0.1:6783", "connection refused", kStart);
  CHECK(maker.NextDue() == kStart + absl::Seconds(2));
  CHECK(maker.Due(kStart + absl::Milliseconds(1999), AllowAll()).empty());
  std::vector<TargetStatus> status = maker.Status();
  REQUIRE(status.size() == 1);
  CHECK(status[0].state == "failed");
  CHECK(status[0].info.rfind("connection refused, retry: ", 0) == 0);

  absl::Time second = kStart + absl::Seconds(2);
  REQUIRE(maker.Due(second, AllowAll()).size() == 1);
  CHECK(maker.Status()[0].state == "retrying");
  maker.Failed("10.0.0.1:6783", "connection refused", second);
  CHECK(maker.NextDue() == second + absl::Seconds(3));
}

TEST_CASE("Back-off is capped") {
  ConnectionMaker maker = MakeMaker(/*jitter=*/0.999);
  maker.AddTargets({"10.0.0.1:6783"});
  absl::Time now = kStart;
  for (int i = 0; i < 40; ++i) {
    REQUIRE(maker.Due(now, AllowAll()).size() == 1);
    maker.Failed("10.0.0.1:6783", "timeout", now);
    absl::Time next = maker.NextDue();
    CHECK(next - now < absl::Minutes(9) + absl::Seconds(1));  // 1.5 x 6 min at most
    now = next;
  }
}

TEST_CASE("A connection that lasted is retried at once, a short one backs off") {
  ConnectionMaker maker = MakeMaker();
  maker.AddTargets({"10.0.0.1:6783"});
  REQUIRE(maker.Due(kStart, AllowAll()).size() == 1);
  maker.Connected("10.0.0.1:6783", PeerName(7), kStart);
  CHECK(maker.Status().empty());  // connected targets are not listed
  absl::Time later = kStart + absl::Minutes(5);
  maker.Disconnected("10.0.0.1:6783", "EOF", later);
  CHECK(maker.NextDue() == later);

  REQUIRE(maker.Due(later, AllowAll()).size() == 1);
  maker.Connected("10.0.0.1:6783", PeerName(7), later);
  maker.Disconnected("10.0.0.1:6783", "EOF", later + absl::Seconds(1));
  CHECK(maker.NextDue() > later + absl::Seconds(1));
}

TEST_CASE("Ourselves and name collisions are never dialled again") {
  ConnectionMaker maker = MakeMaker();
  maker.AddTargets({"10.0.0.1:6783"});
  REQUIRE(maker.Due(kStart, AllowAll()).size() == 1);
  maker.NeverRetry("10.0.0.1:6783", "connection to ourselves");
  CHECK(maker.Due(kStart + absl::Hours(1), AllowAll()).empty());
  CHECK(maker.NextDue() == absl::InfiniteFuture());
  CHECK(maker.Status().empty());
  CHECK(maker.DirectTargets().size() == 1);  // still a target as given
}

TEST_CASE("The dial gate sees the peer last found at an address and can hold a target") {
  ConnectionMaker maker = MakeMaker();
  maker.AddTargets({"10.0.0.1:6783"});
  REQUIRE(maker.Due(kStart, AllowAll()).size() == 1);
  maker.Connected("10.0.0.1:6783", PeerName(7), kStart);
  maker.Disconnected("10.0.0.1:6783", "EOF", kStart + absl::Minutes(2));
  std::optional<PeerName> seen;
  auto refuse = [&](absl::string_view, std::optional<PeerName> peer) {
    seen = peer;
    return false;
  };
  CHECK(maker.Due(kStart + absl::Minutes(2), refuse).empty());
  CHECK(seen == PeerName(7));
  CHECK(maker.Due(kStart + absl::Minutes(2), AllowAll()).size() == 1);
}

TEST_CASE("Discovered addresses come and go, direct targets stay") {
  ConnectionMaker maker = MakeMaker();
  maker.AddTargets({"10.0.0.1:6783"});
  maker.SetDiscovered({"10.0.0.1:6783", "10.0.0.2:6783", "10.0.0.3:6783"});
  CHECK(maker.DirectTargets().size() == 1);  // "Targets:" counts direct ones only
  std::vector<std::string> due = maker.Due(kStart, AllowAll());
  CHECK(due.size() == 3);
  maker.Failed("10.0.0.3:6783", "refused", kStart);
  maker.SetDiscovered({});
  // 10.0.0.2 is still being dialled, so it stays until that ends; 10.0.0.3 goes now.
  std::vector<TargetStatus> status = maker.Status();
  REQUIRE(status.size() == 2);
  CHECK(status[0].address == "10.0.0.1:6783");
  CHECK(status[1].address == "10.0.0.2:6783");
  maker.Failed("10.0.0.2:6783", "refused", kStart);
  CHECK(maker.Status().size() == 1);
}

TEST_CASE("Forget drops direct targets and names the unknown ones") {
  ConnectionMaker maker = MakeMaker();
  maker.AddTargets({"10.0.0.1:6783", "10.0.0.2:6783"});
  CHECK(maker.ForgetTargets({"10.0.0.2:6783", "10.0.0.9:6783"}) ==
        std::vector<std::string>{"10.0.0.9:6783"});
  CHECK(maker.DirectTargets() == std::vector<std::string>{"10.0.0.1:6783"});
  CHECK(maker.Due(kStart, AllowAll()) == std::vector<std::string>{"10.0.0.1:6783"});
}

TEST_CASE("An inbound connection from a peer marks its listening address connected") {
  ConnectionMaker maker = MakeMaker();
  maker.SetDiscovered({"10.0.0.2:6783"});
  maker.Connected("10.0.0.2:6783", PeerName(9), kStart);
  CHECK(maker.Due(kStart, AllowAll()).empty());
  // Not a target of ours: after the connection ends it is only kept while discovered.
  maker.SetDiscovered({});
  maker.Disconnected("10.0.0.2:6783", "EOF", kStart + absl::Seconds(1));
  CHECK(maker.NextDue() == absl::InfiniteFuture());
}

}  // namespace
}  // namespace weave::mesh
