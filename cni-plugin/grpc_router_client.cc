#include "cni-plugin/grpc_router_client.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "cni-plugin/errors.h"

namespace weave::cni {

absl::Status StatusFromGrpc(const grpc::Status& status, absl::string_view method,
                            absl::string_view socket_path, absl::Duration timeout) {
  if (status.ok()) return absl::OkStatus();
  const std::string& message = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return WithCniDetails(
          absl::UnavailableError(absl::StrCat("weave router is not running (nothing answers on ",
                                              socket_path, "); try again later")),
          message);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return WithCniDetails(absl::DeadlineExceededError(absl::StrCat(
                                "weave router on ", socket_path, " did not answer ", method,
                                " within ", absl::FormatDuration(timeout), "; try again later")),
                            message);
    default:
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          absl::StrCat("router: ", method, ": ", message));
  }
}

GrpcRouterClient::GrpcRouterClient(std::string socket_path, absl::Duration timeout)
    : socket_path_(std::move(socket_path)),
      timeout_(timeout),
      stub_(v1::Router::NewStub(
          grpc::CreateChannel("unix:" + socket_path_, grpc::InsecureChannelCredentials()))) {}

template <typename Request, typename Response, typename Method>
absl::StatusOr<Response> GrpcRouterClient::Call(absl::string_view name, Method method,
                                                const Request& request) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  Response response;
  const grpc::Status status = (stub_.get()->*method)(&context, request, &response);
  if (!status.ok()) return StatusFromGrpc(status, name, socket_path_, timeout_);
  return response;
}

absl::StatusOr<v1::AttachContainerResponse> GrpcRouterClient::AttachContainer(
    const v1::AttachContainerRequest& request) {
  return Call<v1::AttachContainerRequest, v1::AttachContainerResponse>(
      "AttachContainer", &v1::Router::Stub::AttachContainer, request);
}

absl::Status GrpcRouterClient::DetachContainer(const v1::DetachContainerRequest& request) {
  return Call<v1::DetachContainerRequest, v1::DetachContainerResponse>(
             "DetachContainer", &v1::Router::Stub::DetachContainer, request)
      .status();
}

absl::Status GrpcRouterClient::CheckContainer(const v1::CheckContainerRequest& request) {
  return Call<v1::CheckContainerRequest, v1::CheckContainerResponse>(
             "CheckContainer", &v1::Router::Stub::CheckContainer, request)
      .status();
}

absl::StatusOr<v1::GarbageCollectResponse> GrpcRouterClient::GarbageCollect(
    const v1::GarbageCollectRequest& request) {
  return Call<v1::GarbageCollectRequest, v1::GarbageCollectResponse>(
      "GarbageCollect", &v1::Router::Stub::GarbageCollect, request);
}

absl::StatusOr<v1::Status> GrpcRouterClient::GetStatus() {
  return Call<v1::GetStatusRequest, v1::Status>("GetStatus", &v1::Router::Stub::GetStatus,
                                                v1::GetStatusRequest());
}

absl::StatusOr<v1::AllocateAddressResponse> GrpcRouterClient::AllocateAddress(
    const v1::AllocateAddressRequest& request) {
  return Call<v1::AllocateAddressRequest, v1::AllocateAddressResponse>(
      "AllocateAddress", &v1::Router::Stub::AllocateAddress, request);
}

absl::Status GrpcRouterClient::ReleaseAddress(const v1::ReleaseAddressRequest& request) {
  return Call<v1::ReleaseAddressRequest, v1::ReleaseAddressResponse>(
             "ReleaseAddress", &v1::Router::Stub::ReleaseAddress, request)
      .status();
}

}  // namespace weave::cni
