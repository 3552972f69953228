#include "router/overlay/overlay_switch.h"

#include <catch2/catch.hpp>

namespace weave::overlay {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'800'000'000);

SwitchOptions Options() {
  SwitchOptions options;
  options.heartbeat = absl::Seconds(1);
  options.timeout = absl::Seconds(5);
  options.fastdp_wait = absl::Seconds(3);
  options.retry = absl::Seconds(30);
  return options;
}

void BothWays(Health& health, absl::Time now) {
  health.Acked(now);
  health.Heard(now);
}

TEST_CASE("A link uses fastdp as soon as its heartbeats work both ways", "[overlay]") {
  LinkSwitch link(Options(), "", kStart);
  CHECK(link.Evaluate(kStart).mode == Mode::kNone);
  link.fastdp().Acked(kStart + absl::Milliseconds(10));
  CHECK(link.Evaluate(kStart + absl::Milliseconds(10)).mode == Mode::kNone);  // one way only
  link.fastdp().Heard(kStart + absl::Milliseconds(20));
  Decision d = link.Evaluate(kStart + absl::Milliseconds(20));
  CHECK(d.changed);
  CHECK(d.mode == Mode::kFastdp);
  CHECK(link.fallback_reason().empty());
}

TEST_CASE("A link waits for fastdp before settling for sleeve", "[overlay]") {
  LinkSwitch link(Options(), "", kStart);
  BothWays(link.sleeve(), kStart + absl::Milliseconds(5));
  CHECK(link.Evaluate(kStart + absl::Seconds(1)).mode == Mode::kNone);
  BothWays(link.sleeve(), kStart + absl::Seconds(3));
  Decision d = link.Evaluate(kStart + absl::Seconds(3));
  CHECK(d.changed);
  CHECK(d.mode == Mode::kSleeve);
  CHECK(d.reason ==
        "fastdp does not work: no heartbeat acknowledged by the peer yet; using sleeve, retrying "
        "fastdp every 30s");
}

TEST_CASE("A link where fastdp is refused uses sleeve at once and says why", "[overlay]") {
  LinkSwitch link(Options(), "the link is encrypted", kStart);
  CHECK_FALSE(link.fastdp_allowed());
  BothWays(link.fastdp(), kStart);  // even working heartbeats do not make it fastdp
  BothWays(link.sleeve(), kStart);
  Decision d = link.Evaluate(kStart);
  CHECK(d.mode == Mode::kSleeve);
  CHECK(d.reason == "fastdp is not used: the link is encrypted");
  BothWays(link.fastdp(), kStart + absl::Seconds(40));
  BothWays(link.sleeve(), kStart + absl::Seconds(40));
  CHECK(link.Evaluate(kStart + absl::Seconds(40)).mode == Mode::kSleeve);
}

TEST_CASE("fastdp falls back to sleeve with a reason and returns at the next retry", "[overlay]") {
  LinkSwitch link(Options(), "", kStart);
  BothWays(link.fastdp(), kStart);
  BothWays(link.sleeve(), kStart);
  REQUIRE(link.Evaluate(kStart).mode == Mode::kFastdp);

  // VXLAN blocked: the peer's heartbeats still arrive by sleeve, ours are not acknowledged.
  absl::Time t = kStart;
  for (int i = 1; i <= 5; ++i) {
    t = kStart + absl::Seconds(i);
    BothWays(link.sleeve(), t);
    CHECK(link.Evaluate(t).mode == Mode::kFastdp);  // within the timeout
  }
  t = kStart + absl::Seconds(6);
  BothWays(link.sleeve(), t);
  Decision d = link.Evaluate(t);
  CHECK(d.changed);
  CHECK(d.mode == Mode::kSleeve);
  CHECK(d.reason ==
        "fastdp stopped working: no heartbeat acknowledged by the peer for 6s; using sleeve, "
        "retrying fastdp every 30s");
  CHECK(link.fallback_reason() == d.reason);

  // Unblocked at once: fastdp works again, but the link waits for its retry time.
  for (int i = 7; i < 36; ++i) {
    t = kStart + absl::Seconds(i);
    BothWays(link.fastdp(), t);
    BothWays(link.sleeve(), t);
    CHECK(link.Evaluate(t).mode == Mode::kSleeve);
  }
  t = kStart + absl::Seconds(36);
  BothWays(link.fastdp(), t);
  BothWays(link.sleeve(), t);
  d = link.Evaluate(t);
  CHECK(d.changed);
  CHECK(d.mode == Mode::kFastdp);
  CHECK(link.fallback_reason().empty());
}

TEST_CASE("A link follows its peer's switch when that overlay works here too", "[overlay]") {
  LinkSwitch link(Options(), "", kStart);
  BothWays(link.sleeve(), kStart);
  link.PeerSwitched(Mode::kSleeve, kStart);
  REQUIRE(link.Evaluate(kStart).mode == Mode::kSleeve);  // no need to wait for fastdp_wait

  absl::Time t = kStart + absl::Seconds(2);
  BothWays(link.sleeve(), t);
  link.PeerSwitched(Mode::kFastdp, t);
  CHECK(link.Evaluate(t).mode == Mode::kSleeve);  // fastdp does not work here: stay
  BothWays(link.fastdp(), t);
  link.PeerSwitched(Mode::kFastdp, t);
  CHECK(link.Evaluate(t).mode == Mode::kFastdp);  // before the retry time

  link.PeerSwitched(Mode::kSleeve, t);
  Decision d = link.Evaluate(t);
  CHECK(d.mode == Mode::kSleeve);
  CHECK(d.reason == "the peer fell back to sleeve; using sleeve, retrying fastdp every 30s");
}

TEST_CASE("A link with no working overlay says so, and recovers", "[overlay]") {
  LinkSwitch link(Options(), "", kStart);
  BothWays(link.fastdp(), kStart);
  BothWays(link.sleeve(), kStart);
  REQUIRE(link.Evaluate(kStart).mode == Mode::kFastdp);
  Decision d = link.Evaluate(kStart + absl::Seconds(10));
  CHECK(d.mode == Mode::kNone);
  CHECK(d.reason ==
        "no overlay works: fastdp: no heartbeat acknowledged by the peer for 10s; sleeve: no "
        "heartbeat acknowledged by the peer for 10s");
  BothWays(link.sleeve(), kStart + absl::Seconds(11));
  CHECK(link.Evaluate(kStart + absl::Seconds(11)).mode == Mode::kSleeve);
  // Sleeve lost too while fastdp came back: fastdp at once, without waiting for the retry.
  BothWays(link.fastdp(), kStart + absl::Seconds(20));
  CHECK(link.Evaluate(kStart + absl::Seconds(20)).mode == Mode::kFastdp);
}

TEST_CASE("Health says which direction is missing", "[overlay]") {
  Health health;
  CHECK(health.Problem(kStart, absl::Seconds(5)) == "no heartbeat acknowledged by the peer yet");
  health.Acked(kStart);
  CHECK(health.Problem(kStart, absl::Seconds(5)) == "no heartbeat received from the peer yet");
  health.Heard(kStart);
  CHECK(health.Works(kStart + absl::Seconds(5), absl::Seconds(5)));
  CHECK(health.Problem(kStart, absl::Seconds(5)).empty());
  CHECK_FALSE(health.Works(kStart + absl::Seconds(6), absl::Seconds(5)));
}

}  // namespace
}  // namespace weave::overlay
