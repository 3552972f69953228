// The plugin's view of the router: the Router gRPC API's CNI and IPAM calls, one call per
// invocation. GrpcRouterClient (grpc_router_client.h) talks to weaver over its unix socket;
// FakeRouterClient (fake_router_client.h) keeps attachments in memory for tests.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "weave/router.pb.h"

namespace weave::cni {

// Errors are one-line statuses. When the router cannot be reached (not running, socket missing,
// no answer within the deadline) the code is UNAVAILABLE or DEADLINE_EXCEEDED and the message
// names the socket; the router's own errors keep its status code and message.
class RouterClient {
 public:
  virtual ~RouterClient() = default;

  virtual absl::StatusOr<v1::AttachContainerResponse> AttachContainer(
      const v1::AttachContainerRequest& request) = 0;
  // Detaching something already gone is OK (the router answers OK).
  virtual absl::Status DetachContainer(const v1::DetachContainerRequest& request) = 0;
  virtual absl::Status CheckContainer(const v1::CheckContainerRequest& request) = 0;
  virtual absl::StatusOr<v1::GarbageCollectResponse> GarbageCollect(
      const v1::GarbageCollectRequest& request) = 0;
  virtual absl::StatusOr<v1::Status> GetStatus() = 0;
  // Idempotent per (container_id, ifname): asking again returns the same address.
  virtual absl::StatusOr<v1::AllocateAddressResponse> AllocateAddress(
      const v1::AllocateAddressRequest& request) = 0;
  virtual absl::Status ReleaseAddress(const v1::ReleaseAddressRequest& request) = 0;
};

}  // namespace weave::cni
