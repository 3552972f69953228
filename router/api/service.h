// The Router gRPC service: maps each call onto the router's components and every
// absl::Status onto a gRPC status in one place (ToGrpcStatus). Methods not overridden here
// answer UNIMPLEMENTED (gRPC's default); they arrive with the components that own them.
#pragma once

#include <atomic>
#include <functional>

#include "grpcpp/grpcpp.h"
#include "ipam/allocator.h"
#include "router/pods/attacher.h"
#include "router/pods/endpoints.h"
#include "router/router.h"
#include "weave/router.grpc.pb.h"

namespace weave::router {

grpc::Status ToGrpcStatus(const absl::Status& status);

class RouterService final : public v1::Router::Service {
 public:
  // `on_reset` runs after Reset has torn the node's network down; it stops the router, which
  // then removes its store.
  RouterService(Router* router, Attacher* attacher, ipam::Allocator* allocator,
                EndpointRegistry* endpoints, std::function<void()> on_reset)
      : router_(router),
        attacher_(attacher),
        allocator_(allocator),
        endpoints_(endpoints),
        on_reset_(std::move(on_reset)) {}

  // Ends open endpoint streams promptly (they otherwise wait for events).
  void Shutdown() { shutting_down_ = true; }

  grpc::Status GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                         v1::Status* response) override;
  grpc::Status AttachContainer(grpc::ServerContext*, const v1::AttachContainerRequest* request,
                               v1::AttachContainerResponse* response) override;
  grpc::Status DetachContainer(grpc::ServerContext*, const v1::DetachContainerRequest* request,
                               v1::DetachContainerResponse*) override;
  grpc::Status CheckContainer(grpc::ServerContext*, const v1::CheckContainerRequest* request,
                              v1::CheckContainerResponse*) override;
  grpc::Status GarbageCollect(grpc::ServerContext*, const v1::GarbageCollectRequest* request,
                              v1::GarbageCollectResponse* response) override;
  grpc::Status AllocateAddress(grpc::ServerContext*, const v1::AllocateAddressRequest* request,
                               v1::AllocateAddressResponse* response) override;
  grpc::Status ReleaseAddress(grpc::ServerContext*, const v1::ReleaseAddressRequest* request,
                              v1::ReleaseAddressResponse*) override;
  grpc::Status ListEndpoints(grpc::ServerContext*, const v1::ListEndpointsRequest*,
                             v1::ListEndpointsResponse* response) override;
  grpc::Status WatchEndpoints(grpc::ServerContext* context, const v1::WatchEndpointsRequest*,
                              grpc::ServerWriter<v1::EndpointEvent>* writer) override;
  grpc::Status Expose(grpc::ServerContext*, const v1::ExposeRequest* request,
                      v1::ExposeResponse* response) override;
  grpc::Status Reset(grpc::ServerContext*, const v1::ResetRequest*, v1::ResetResponse*) override;
  grpc::Status YieldRing(grpc::ServerContext*, const v1::YieldRingRequest*,
                         v1::YieldRingResponse* response) override;
  grpc::Status RemovePeer(grpc::ServerContext*, const v1::RemovePeerRequest* request,
                          v1::RemovePeerResponse* response) override;
  grpc::Status Connect(grpc::ServerContext*, const v1::ConnectRequest* request,
                       v1::ConnectResponse*) override;
  grpc::Status Forget(grpc::ServerContext*, const v1::ForgetRequest* request,
                      v1::ForgetResponse*) override;
  // Keeps weave-npc's report; its first full sync opens the policy gate. UNAVAILABLE before the
  // router has its NpcStatus; an error opening the gate is returned (weave-npc retries).
  grpc::Status ReportPolicyStatus(grpc::ServerContext*, const v1::PolicyStatus* request,
                                  v1::ReportPolicyStatusResponse* response) override;

 private:
  Router* const router_;
  Attacher* const attacher_;
  ipam::Allocator* const allocator_;
  EndpointRegistry* const endpoints_;
  const std::function<void()> on_reset_;
  std::atomic<bool> shutting_down_ = false;
};

}  // namespace weave::router
