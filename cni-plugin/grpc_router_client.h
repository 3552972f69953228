// RouterClient over gRPC on the router's unix socket.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cni-plugin/router_client.h"
#include "weave/router.grpc.pb.h"

namespace weave::cni {

// The one mapping from a gRPC status to ours. UNAVAILABLE (nothing listens on the socket, the
// router is restarting) becomes UNAVAILABLE "weave router is not running (nothing answers on
// <socket>); try again later" with gRPC's text as CNI details; DEADLINE_EXCEEDED names the
// socket, the method and the deadline; any other code is kept, with "router: <method>: <message>".
absl::Status StatusFromGrpc(const grpc::Status& status, absl::string_view method,
                            absl::string_view socket_path, absl::Duration timeout);

// Each call carries `timeout` as its deadline and does not wait for the router to come up (a
// missing socket fails at once). Thread-compatible; one instance serves one plugin invocation.
class GrpcRouterClient final : public RouterClient {
 public:
  // `socket_path` is a filesystem path, e.g. /run/weave/weave.sock. No connection is made here.
  GrpcRouterClient(std::string socket_path, absl::Duration timeout);

  absl::StatusOr<v1::AttachContainerResponse> AttachContainer(
      const v1::AttachContainerRequest& request) override;
  absl::Status DetachContainer(const v1::DetachContainerRequest& request) override;
  absl::Status CheckContainer(const v1::CheckContainerRequest& request) override;
  absl::StatusOr<v1::GarbageCollectResponse> GarbageCollect(
      const v1::GarbageCollectRequest& request) override;
  absl::StatusOr<v1::Status> GetStatus() override;
  absl::StatusOr<v1::AllocateAddressResponse> AllocateAddress(
      const v1::AllocateAddressRequest& request) override;
  absl::Status ReleaseAddress(const v1::ReleaseAddressRequest& request) override;

 private:
  // Runs one unary call with the deadline and maps its status.
  template <typename Request, typename Response, typename Method>
  absl::StatusOr<Response> Call(absl::string_view name, Method method, const Request& request);

  std::string socket_path_;
  absl::Duration timeout_;
  std::unique_ptr<v1::Router::Stub> stub_;
};

}  // namespace weave::cni
