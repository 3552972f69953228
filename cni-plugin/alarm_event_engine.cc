#include "cni-plugin/alarm_event_engine.h"

#include <grpc/support/time.h>
#include <grpcpp/alarm.h>

#include <atomic>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace weave::cni {

using grpc_event_engine::experimental::EndpointConfig;
using grpc_event_engine::experimental::EventEngine;
using grpc_event_engine::experimental::MemoryAllocator;
using grpc_event_engine::experimental::MemoryAllocatorFactory;

struct AlarmEventEngine::Task {
  enum State { kPending, kStarted, kCancelled };
  // Whoever moves it out of kPending decides: Fire runs the closure, Cancel prevents it.
  std::atomic<State> state{kPending};
  absl::AnyInvocable<void()> closure;
  grpc::Alarm alarm;
};

struct AlarmEventEngine::Tasks {
  absl::Mutex mu;
  intptr_t next_id ABSL_GUARDED_BY(mu) = 1;
  absl::flat_hash_map<intptr_t, std::shared_ptr<Task>> pending ABSL_GUARDED_BY(mu);
};

AlarmEventEngine::AlarmEventEngine() : tasks_(std::make_shared<Tasks>()) {}

AlarmEventEngine::~AlarmEventEngine() {
  absl::flat_hash_map<intptr_t, std::shared_ptr<Task>> pending;
  {
    absl::MutexLock lock(&tasks_->mu);
    pending.swap(tasks_->pending);
  }
  for (auto& [id, task] : pending) {
    Task::State expected = Task::kPending;
    if (task->state.compare_exchange_strong(expected, Task::kCancelled)) task->alarm.Cancel();
  }
}

void AlarmEventEngine::Run(Closure* closure) { RunAfter(Duration::zero(), closure); }

void AlarmEventEngine::Run(absl::AnyInvocable<void()> closure) {
  RunAfter(Duration::zero(), std::move(closure));
}

EventEngine::TaskHandle AlarmEventEngine::RunAfter(Duration when, Closure* closure) {
  return RunAfter(when, [closure] { closure->Run(); });
}

EventEngine::TaskHandle AlarmEventEngine::RunAfter(Duration when,
                                                   absl::AnyInvocable<void()> closure) {
  auto task = std::make_shared<Task>();
  task->closure = std::move(closure);
  intptr_t id;
  {
    absl::MutexLock lock(&tasks_->mu);
    id = tasks_->next_id++;
    tasks_->pending.emplace(id, task);
  }
  // A deadline already past fires at once, still on an executor thread, never inline here.
  const gpr_timespec deadline =
      gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_nanos(when.count(), GPR_TIMESPAN));
  task->alarm.Set(deadline, [tasks = tasks_, id](bool ok) { Fire(tasks, id, ok); });
  return TaskHandle{{id, 0}};
}

void AlarmEventEngine::Fire(const std::shared_ptr<Tasks>& tasks, intptr_t id, bool ok) {
  std::shared_ptr<Task> task;
  {
    absl::MutexLock lock(&tasks->mu);
    auto it = tasks->pending.find(id);
    if (it != tasks->pending.end()) {
      task = std::move(it->second);
      tasks->pending.erase(it);
    }
  }
  // Not found: the engine was destroyed and has cancelled the task.
  if (task == nullptr || !ok) return;
  Task::State expected = Task::kPending;
  if (task->state.compare_exchange_strong(expected, Task::kStarted)) task->closure();
}

bool AlarmEventEngine::Cancel(TaskHandle handle) {
  std::shared_ptr<Task> task;
  {
    absl::MutexLock lock(&tasks_->mu);
    auto it = tasks_->pending.find(handle.keys[0]);
    if (it == tasks_->pending.end()) return false;
    task = it->second;
  }
  Task::State expected = Task::kPending;
  if (!task->state.compare_exchange_strong(expected, Task::kCancelled)) return false;
  task->alarm.Cancel();  // its callback, with ok false, removes the task
  return true;
}

absl::StatusOr<std::unique_ptr<EventEngine::Listener>> AlarmEventEngine::CreateListener(
    Listener::AcceptCallback, absl::AnyInvocable<void(absl::Status)>, const EndpointConfig&,
    std::unique_ptr<MemoryAllocatorFactory>) {
  return absl::UnimplementedError("AlarmEventEngine does not listen (gRPC 1.51 servers use iomgr)");
}

EventEngine::ConnectionHandle AlarmEventEngine::Connect(OnConnectCallback on_connect,
                                                        const ResolvedAddress&,
                                                        const EndpointConfig&, MemoryAllocator,
                                                        Duration) {
  Run([on_connect = std::move(on_connect)]() mutable {
    on_connect(absl::UnimplementedError(
        "AlarmEventEngine does not connect (gRPC 1.51 clients use iomgr)"));
  });
  return ConnectionHandle{{0, 0}};
}

}  // namespace weave::cni
