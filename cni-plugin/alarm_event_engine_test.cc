#include "cni-plugin/alarm_event_engine.h"

#include <grpc/grpc.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace weave::cni {
namespace {

using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;

// The engine's alarms need gRPC initialised; the channel does that in the plugin.
class GrpcInitialised {
 public:
  GrpcInitialised() { grpc_init(); }
  ~GrpcInitialised() { grpc_shutdown(); }
};

class NoEndpointConfig final : public grpc_event_engine::experimental::EndpointConfig {
 public:
  absl::optional<int> GetInt(absl::string_view) const override { return absl::nullopt; }
  absl::optional<absl::string_view> GetString(absl::string_view) const override {
    return absl::nullopt;
  }
  void* GetVoidPointer(absl::string_view) const override { return nullptr; }
};

class NotifyingClosure final : public grpc_event_engine::experimental::EventEngine::Closure {
 public:
  void Run() override { done.Notify(); }
  absl::Notification done;
};

TEST_CASE("AlarmEventEngine runs closures on gRPC's threads, never inline", "[grpc]") {
  GrpcInitialised grpc;
  AlarmEventEngine engine;
  absl::Notification ran;
  std::thread::id ran_on;
  engine.Run([&] {
    ran_on = std::this_thread::get_id();
    ran.Notify();
  });
  REQUIRE(ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  CHECK(ran_on != std::this_thread::get_id());

  NotifyingClosure closure;
  engine.Run(&closure);
  CHECK(closure.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST_CASE("AlarmEventEngine runs a delayed closure once its delay has passed", "[grpc]") {
  GrpcInitialised grpc;
  AlarmEventEngine engine;
  absl::Notification ran;
  const absl::Time start = absl::Now();
  absl::Time ran_at;
  engine.RunAfter(200ms, [&] {
    ran_at = absl::Now();
    ran.Notify();
  });
  REQUIRE(ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  CHECK(ran_at - start >= absl::Milliseconds(200));

  NotifyingClosure closure;
  engine.RunAfter(10ms, &closure);
  CHECK(closure.done.WaitForNotificationWithTimeout(absl::Seconds(10)));
}

TEST_CASE("AlarmEventEngine cancels what has not started, and only that", "[grpc]") {
  GrpcInitialised grpc;
  AlarmEventEngine engine;
  std::atomic<bool> cancelled_ran = false;
  const auto pending = engine.RunAfter(1s, [&] { cancelled_ran = true; });
  CHECK(engine.Cancel(pending));
  CHECK_FALSE(engine.Cancel(pending));

  absl::Notification ran;
  const auto done = engine.RunAfter(0ms, [&] { ran.Notify(); });
  REQUIRE(ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  CHECK_FALSE(engine.Cancel(done));

  // Past the cancelled closure's time: it must not have run.
  std::this_thread::sleep_for(1500ms);
  CHECK_FALSE(cancelled_ran);
}

TEST_CASE("AlarmEventEngine cancels pending closures when destroyed", "[grpc]") {
  GrpcInitialised grpc;
  std::atomic<bool> ran = false;
  {
    AlarmEventEngine engine;
    engine.RunAfter(300ms, [&] { ran = true; });
  }
  std::this_thread::sleep_for(600ms);
  CHECK_FALSE(ran);
}

TEST_CASE("AlarmEventEngine leaves connecting to iomgr", "[grpc]") {
  GrpcInitialised grpc;
  AlarmEventEngine engine;
  absl::Notification called;
  absl::Status status;
  engine.Connect(
      [&](absl::StatusOr<std::unique_ptr<AlarmEventEngine::Endpoint>> endpoint) {
        status = endpoint.status();
        called.Notify();
      },
      AlarmEventEngine::ResolvedAddress(), NoEndpointConfig(),
      grpc_event_engine::experimental::MemoryAllocator(), 1s);
  REQUIRE(called.WaitForNotificationWithTimeout(absl::Seconds(10)));
  CHECK(status.code() == absl::StatusCode::kUnimplemented);
  CHECK(engine.CreateListener(nullptr, nullptr, NoEndpointConfig(), nullptr).status().code() ==
        absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace weave::cni
