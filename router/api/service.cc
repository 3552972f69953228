#include "router/api/service.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/log.h"
#include "spdlog/spdlog.h"

namespace weave::router {
namespace {
// A caller without a deadline waits at most this long for an address.
constexpr absl::Duration kMaxAttachWait = absl::Minutes(2);
}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbers.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

grpc::Status RouterService::GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                                      v1::Status* response) {
  *response = router_->Status();
  return grpc::Status::OK;
}

grpc::Status RouterService::AttachContainer(grpc::ServerContext* context,
                                            const v1::AttachContainerRequest* request,
                                            v1::AttachContainerResponse* response) {
  absl::Time start = absl::Now();
  // Before the ring exists (consensus with peers still running) the bridge has no address:
  // wait for it within the caller's deadline rather than fail or allocate from nowhere.
  const absl::Time deadline = std::min(absl::FromChrono(context->deadline()),
                                       start + kMaxAttachWait);
  // In slices, so that a stopping router does not wait for this call.
  while (!router_->readiness().WaitFor(
      kReadyNetwork, absl::ToChronoTime(std::min(deadline, absl::Now() + absl::Milliseconds(200))))) {
    if (shutting_down_ || absl::Now() >= deadline) {
      return ToGrpcStatus(absl::UnavailableError(
          "the node's network is not ready yet (IPAM is waiting for its peers); try again"));
    }
  }
  absl::StatusOr<v1::AttachContainerResponse> result = attacher_->Attach(*request, deadline);
  spdlog::debug("Attach {} {}: {} in {}", request->container_id(), request->ifname(),
                result.status(), absl::FormatDuration(absl::Now() - start));
  if (!result.ok()) {
    spdlog::warn("Attach {} {}: {}", request->container_id(), request->ifname(), result.status());
    return ToGrpcStatus(result.status());
  }
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status RouterService::DetachContainer(grpc::ServerContext*,
                                            const v1::DetachContainerRequest* request,
                                            v1::DetachContainerResponse*) {
  absl::Time start = absl::Now();
  absl::Status detached = attacher_->Detach(*request);
  spdlog::debug("Detach {} {}: {} in {}", request->container_id(), request->ifname(), detached,
                absl::FormatDuration(absl::Now() - start));
  return ToGrpcStatus(detached);
}

grpc::Status RouterService::CheckContainer(grpc::ServerContext*,
                                           const v1::CheckContainerRequest* request,
                                           v1::CheckContainerResponse*) {
  return ToGrpcStatus(attacher_->Check(*request));
}

grpc::Status RouterService::GarbageCollect(grpc::ServerContext*,
                                           const v1::GarbageCollectRequest* request,
                                           v1::GarbageCollectResponse* response) {
  absl::StatusOr<uint32_t> released = attacher_->GarbageCollect(*request);
  if (!released.ok()) return ToGrpcStatus(released.status());
  response->set_released(*released);
  return grpc::Status::OK;
}

grpc::Status RouterService::AllocateAddress(grpc::ServerContext* context,
                                            const v1::AllocateAddressRequest* request,
                                            v1::AllocateAddressResponse* response) {
  if (request->container_id().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "container ID is empty");
  }
  absl::StatusOr<ipam::Allocation> allocation =
      allocator_->Allocate({request->container_id(), request->ifname(), "", "",
                            std::min(absl::FromChrono(context->deadline()),
                                     absl::Now() + kMaxAttachWait)});
  if (!allocation.ok()) return ToGrpcStatus(allocation.status());
  response->mutable_ip()->set_address(allocation->address.ToString());
  return grpc::Status::OK;
}

grpc::Status RouterService::ReleaseAddress(grpc::ServerContext*,
                                           const v1::ReleaseAddressRequest* request,
                                           v1::ReleaseAddressResponse*) {
  return ToGrpcStatus(allocator_->Release(request->container_id(), request->ifname()));
}

grpc::Status RouterService::ListEndpoints(grpc::ServerContext*, const v1::ListEndpointsRequest*,
                                          v1::ListEndpointsResponse* response) {
  if (absl::StatusOr<v1::Endpoint> bridge = attacher_->BridgeEndpoint(); bridge.ok()) {
    *response->add_endpoints() = std::move(*bridge);
  }
  for (v1::Endpoint& endpoint : endpoints_->List()) {
    *response->add_endpoints() = std::move(endpoint);
  }
  return grpc::Status::OK;
}

grpc::Status RouterService::WatchEndpoints(grpc::ServerContext* context,
                                           const v1::WatchEndpointsRequest*,
                                           grpc::ServerWriter<v1::EndpointEvent>* writer) {
  std::unique_ptr<EndpointRegistry::Subscription> subscription = endpoints_->Subscribe();
  // The sync API has no cancellation callback: wake up now and then to notice a client that
  // went away or a router shutting down.
  while (!context->IsCancelled() && !shutting_down_) {
    std::optional<v1::EndpointEvent> event = subscription->Next(absl::Milliseconds(200));
    if (event && !writer->Write(*event)) break;
  }
  return grpc::Status::OK;
}

grpc::Status RouterService::Expose(grpc::ServerContext*, const v1::ExposeRequest* request,
                                   v1::ExposeResponse* response) {
  std::optional<net::Cidr> wanted;
  if (!request->cidr().empty()) {
    absl::StatusOr<net::Cidr> cidr = net::Cidr::Parse(request->cidr());
    if (!cidr.ok()) return ToGrpcStatus(cidr.status());
    wanted = *cidr;
  }
  absl::StatusOr<net::Cidr> exposed = attacher_->Expose(wanted);
  if (!exposed.ok()) return ToGrpcStatus(exposed.status());
  response->set_cidr(exposed->ToString());
  return grpc::Status::OK;
}

}  // namespace weave::router

namespace weave::router {

grpc::Status RouterService::Reset(grpc::ServerContext*, const v1::ResetRequest*,
                                  v1::ResetResponse*) {
  spdlog::info("Reset requested: removing this node's network state");
  if (ipam::RingAllocator* allocator = router_->allocator()) {
    absl::StatusOr<std::optional<PeerName>> heir = allocator->Handoff();
    if (!heir.ok()) spdlog::warn("Reset: {}", heir.status().message());
  }
  absl::Status torn_down = attacher_->Teardown();
  if (on_reset_) on_reset_();
  return ToGrpcStatus(torn_down);
}

grpc::Status RouterService::Connect(grpc::ServerContext*, const v1::ConnectRequest* request,
                                    v1::ConnectResponse*) {
  mesh::Mesh* mesh = router_->mesh();
  if (mesh == nullptr) return ToGrpcStatus(absl::UnavailableError("the mesh is not running yet"));
  return ToGrpcStatus(
      mesh->Connect({request->peers().begin(), request->peers().end()}, request->replace()));
}

grpc::Status RouterService::Forget(grpc::ServerContext*, const v1::ForgetRequest* request,
                                   v1::ForgetResponse*) {
  mesh::Mesh* mesh = router_->mesh();
  if (mesh == nullptr) return ToGrpcStatus(absl::UnavailableError("the mesh is not running yet"));
  return ToGrpcStatus(mesh->Forget({request->peers().begin(), request->peers().end()}));
}

grpc::Status RouterService::ReportPolicyStatus(grpc::ServerContext*,
                                               const v1::PolicyStatus* request,
                                               v1::ReportPolicyStatusResponse* response) {
  NpcStatus* npc = router_->npc();
  if (npc == nullptr) {
    return ToGrpcStatus(absl::UnavailableError("the router is starting; report again"));
  }
  absl::StatusOr<bool> open = npc->Report(*request);
  if (!open.ok()) return ToGrpcStatus(open.status());
  response->set_gate_open(*open);
  return grpc::Status::OK;
}

grpc::Status RouterService::RemovePeer(grpc::ServerContext*, const v1::RemovePeerRequest* request,
                                       v1::RemovePeerResponse* response) {
  ipam::RingAllocator* allocator = router_->allocator();
  if (allocator == nullptr) return ToGrpcStatus(absl::UnavailableError("IPAM is not running"));
  absl::StatusOr<uint64_t> moved = allocator->RemovePeer(request->peer());
  if (!moved.ok()) return ToGrpcStatus(moved.status());
  response->set_addresses_taken_over(*moved);
  response->set_message(absl::StrCat(*moved, " IPs taken over from ", request->peer()));
  return grpc::Status::OK;
}

grpc::Status RouterService::YieldRing(grpc::ServerContext*, const v1::YieldRingRequest*,
                                      v1::YieldRingResponse* response) {
  ipam::RingAllocator* allocator = router_->allocator();
  if (allocator == nullptr) return ToGrpcStatus(absl::UnavailableError("IPAM is not running"));
  absl::StatusOr<ipam::RingAllocator::YieldResult> yielded =
      allocator->Yield(absl::Now() + absl::Seconds(4));  // within the CLI's 5 s
  if (!yielded.ok()) return ToGrpcStatus(yielded.status());
  response->set_reclaimed(static_cast<uint32_t>(yielded->reclaimed));
  std::vector<std::string> restart;
  for (const ipam::Allocation& collision : yielded->collisions) {
    v1::Endpoint* endpoint = response->add_collisions();
    endpoint->set_container_id(collision.container_id);
    endpoint->set_ifname(collision.ifname);
    endpoint->add_addresses(collision.address.ToString());
    endpoint->set_pod_namespace(collision.pod_namespace);
    endpoint->set_pod_name(collision.pod_name);
    restart.push_back(absl::StrCat(
        collision.pod_name.empty() ? collision.container_id
                                   : absl::StrCat(collision.pod_namespace, "/", collision.pod_name),
        " (", collision.address.address().ToString(), ")"));
  }
  std::string message = absl::StrCat("Joined the other ring; re-claimed ", yielded->reclaimed,
                                     " address(es)");
  if (!restart.empty()) {
    absl::StrAppend(&message, "; ", restart.size(),
                    " also allocated on the other side, restart: ", absl::StrJoin(restart, ", "));
  }
  if (!yielded->unanswered.empty()) {
    absl::StrAppend(&message, "; ", yielded->unanswered.size(),
                    " not answered yet (their owners are unreachable)");
  }
  response->set_message(message);
  return grpc::Status::OK;
}

}  // namespace weave::router
