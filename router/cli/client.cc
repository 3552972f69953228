#include "router/cli/client.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace weave::cli {
namespace {

absl::Status FromGrpc(const grpc::Status& status, const std::string& socket_path) {
  std::string message = absl::StrReplaceAll(status.error_message(), {{"\n", " "}});
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return absl::UnavailableError(absl::StrCat(
        "the weave router is not running (nothing answers on ", socket_path, ": ", message, ")"));
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat("router: ", message));
}

}  // namespace

RouterClient::RouterClient(std::string socket_path, absl::Duration timeout)
    : socket_path_(std::move(socket_path)),
      timeout_(timeout),
      stub_(v1::Router::NewStub(
          grpc::CreateChannel("unix://" + socket_path_, grpc::InsecureChannelCredentials()))) {}

template <typename Request, typename Response>
absl::StatusOr<Response> RouterClient::Call(
    grpc::Status (v1::Router::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    const Request& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  Response response;
  grpc::Status status = ((*stub_).*method)(&context, request, &response);
  if (!status.ok()) return FromGrpc(status, socket_path_);
  return response;
}

absl::StatusOr<v1::Status> RouterClient::GetStatus() {
  return Call(&v1::Router::Stub::GetStatus, v1::GetStatusRequest());
}

absl::StatusOr<v1::ListEndpointsResponse> RouterClient::ListEndpoints() {
  return Call(&v1::Router::Stub::ListEndpoints, v1::ListEndpointsRequest());
}

absl::StatusOr<v1::ExposeResponse> RouterClient::Expose(const v1::ExposeRequest& request) {
  return Call(&v1::Router::Stub::Expose, request);
}

absl::StatusOr<v1::ResetResponse> RouterClient::Reset() {
  return Call(&v1::Router::Stub::Reset, v1::ResetRequest());
}

absl::StatusOr<v1::ConnectResponse> RouterClient::Connect(const v1::ConnectRequest& request) {
  return Call(&v1::Router::Stub::Connect, request);
}

absl::StatusOr<v1::RemovePeerResponse> RouterClient::RemovePeer(
    const v1::RemovePeerRequest& request) {
  return Call(&v1::Router::Stub::RemovePeer, request);
}

absl::StatusOr<v1::YieldRingResponse> RouterClient::YieldRing() {
  return Call(&v1::Router::Stub::YieldRing, v1::YieldRingRequest());
}

absl::StatusOr<v1::ForgetResponse> RouterClient::Forget(const v1::ForgetRequest& request) {
  return Call(&v1::Router::Stub::Forget, request);
}

}  // namespace weave::cli
