// An EventEngine for a process that makes one gRPC call and exits: the CNI plugin.
//
// gRPC 1.51's default engine starts three threads of its own (two pool workers and a timer) when
// the first channel is created, next to the executor and timer threads grpc_init has started.
// The plugin pays for every thread on every invocation, to create it and again at exit: on a
// 2-vCPU VM the default engine's three were about a millisecond of a 12 ms DEL. This engine adds
// no thread: closures and timers go through grpc::Alarm, so they run on the executor threads gRPC
// already has, fired by its timer thread.
//
// It serves what a gRPC 1.51 client asks of an engine: Run, RunAfter and Cancel. Such a client
// connects, resolves names and listens through iomgr, not the engine, so Connect reports
// UNIMPLEMENTED to its callback, CreateListener fails and GetDNSResolver returns null.
//
// Install it with SetEventEngineFactory before the first channel is created (gRPC keeps the
// first default engine for the life of the process). Thread-safe. Closures never run inline in
// Run or RunAfter; they may outlive the engine, which cancels what is still pending when
// destroyed.
#pragma once

#include <grpc/event_engine/event_engine.h>

#include <cstdint>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"

namespace weave::cni {

class AlarmEventEngine final : public grpc_event_engine::experimental::EventEngine {
 public:
  AlarmEventEngine();
  ~AlarmEventEngine() override;

  void Run(Closure* closure) override;
  void Run(absl::AnyInvocable<void()> closure) override;
  TaskHandle RunAfter(Duration when, Closure* closure) override;
  TaskHandle RunAfter(Duration when, absl::AnyInvocable<void()> closure) override;
  // True when the closure will not run; false once it has started or was already cancelled.
  bool Cancel(TaskHandle handle) override;

  // Closures run on gRPC's executor threads, not threads of this engine.
  bool IsWorkerThread() override { return false; }

  absl::StatusOr<std::unique_ptr<Listener>> CreateListener(
      Listener::AcceptCallback on_accept, absl::AnyInvocable<void(absl::Status)> on_shutdown,
      const grpc_event_engine::experimental::EndpointConfig& config,
      std::unique_ptr<grpc_event_engine::experimental::MemoryAllocatorFactory>
          memory_allocator_factory) override;
  ConnectionHandle Connect(OnConnectCallback on_connect, const ResolvedAddress& addr,
                           const grpc_event_engine::experimental::EndpointConfig& args,
                           grpc_event_engine::experimental::MemoryAllocator memory_allocator,
                           Duration timeout) override;
  bool CancelConnect(ConnectionHandle handle) override { return false; }
  std::unique_ptr<DNSResolver> GetDNSResolver(
      const DNSResolver::ResolverOptions& options) override {
    return nullptr;
  }

 private:
  struct Task;
  // Pending tasks by handle, shared with the alarms' callbacks, which may outlive the engine.
  struct Tasks;
  static void Fire(const std::shared_ptr<Tasks>& tasks, intptr_t id, bool ok);

  std::shared_ptr<Tasks> tasks_;
};

}  // namespace weave::cni
