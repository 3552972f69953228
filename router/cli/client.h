// The CLI's connection to the router's gRPC API.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "weave/router.grpc.pb.h"

namespace weave::cli {

class RouterClient {
 public:
  RouterClient(std::string socket_path, absl::Duration timeout);

  // Errors are one line. When nothing answers on the socket: Unavailable with
  // "the weave router is not running (nothing answers on <socket>: <reason>)".
  absl::StatusOr<v1::Status> GetStatus();
  absl::StatusOr<v1::ListEndpointsResponse> ListEndpoints();
  absl::StatusOr<v1::ExposeResponse> Expose(const v1::ExposeRequest& request);
  absl::StatusOr<v1::ResetResponse> Reset();
  absl::StatusOr<v1::ConnectResponse> Connect(const v1::ConnectRequest& request);
  absl::StatusOr<v1::ForgetResponse> Forget(const v1::ForgetRequest& request);
  absl::StatusOr<v1::RemovePeerResponse> RemovePeer(const v1::RemovePeerRequest& request);
  absl::StatusOr<v1::YieldRingResponse> YieldRing();

 private:
  // One unary call with the deadline, errors mapped as described above.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(
      grpc::Status (v1::Router::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
      const Request& request);

  std::string socket_path_;
  absl::Duration timeout_;
  std::unique_ptr<v1::Router::Stub> stub_;
};

}  // namespace weave::cli
