// weave-npc's subscription to the router's endpoint stream (gRPC WatchEndpoints on the router's
// root-only unix socket): every pod interface attached on this node, the moment it is attached,
// with its address and pod. The controller uses it to enforce a pod's policies before the
// Kubernetes API reports the pod's address (see controller.h, early pods).
//
// The stream sends the current endpoints, then SYNCED, then an event per attach and detach. The
// watcher hands the complete list to Controller::ReplaceEndpoints at SYNCED (so endpoints that
// went while it was away are forgotten), then each event as it comes. When the stream breaks (a
// router restart) it subscribes again after a pause (1 s, doubling up to 10 s); the endpoints it
// knows stay meanwhile.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "npc/controller.h"
#include "weave/router.grpc.pb.h"

namespace weave::npc {

// The endpoint of an event as the controller takes it; InvalidArgument, naming the endpoint,
// for one without a container ID or an IPv4 address (the first of its addresses is used).
absl::StatusOr<LocalEndpoint> ToLocalEndpoint(const v1::Endpoint& endpoint);

class EndpointWatcher {
 public:
  // `socket`: a path or "unix:PATH" / "unix://PATH". `controller` must outlive this.
  EndpointWatcher(const std::string& socket, Controller* controller);
  EndpointWatcher(const EndpointWatcher&) = delete;
  EndpointWatcher& operator=(const EndpointWatcher&) = delete;
  ~EndpointWatcher();

  void Start();
  // Cancels the stream and joins the thread; returns promptly. Idempotent.
  void Stop();

  // Whether the current subscription has delivered its complete list (for tests and logs).
  bool synced() const;

 private:
  void Run();
  // One subscription, until the stream ends or Stop: OK when it was cancelled by Stop.
  absl::Status WatchOnce();

  const std::string path_;
  Controller* const controller_;
  std::unique_ptr<v1::Router::Stub> stub_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool synced_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;  // of the current stream
};

}  // namespace weave::npc
