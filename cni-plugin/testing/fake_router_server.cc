#include "cni-plugin/testing/fake_router_server.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace weave::cni::testing {
namespace {

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

// Copies a StatusOr's value into `response` and converts its status.
template <typename T>
grpc::Status Answer(absl::StatusOr<T> result, T* response) {
  if (result.ok()) *response = *std::move(result);
  return ToGrpc(result.status());
}

}  // namespace

void FakeRouterService::Delay() const {
  const int64_t delay_ms = delay_ms_.load();
  if (delay_ms > 0) absl::SleepFor(absl::Milliseconds(delay_ms));
}

grpc::Status FakeRouterService::GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                                          v1::Status* response) {
  Delay();
  return Answer(router_->GetStatus(), response);
}

grpc::Status FakeRouterService::AttachContainer(grpc::ServerContext*,
                                                const v1::AttachContainerRequest* request,
                                                v1::AttachContainerResponse* response) {
  Delay();
  return Answer(router_->AttachContainer(*request), response);
}

grpc::Status FakeRouterService::DetachContainer(grpc::ServerContext*,
                                                const v1::DetachContainerRequest* request,
                                                v1::DetachContainerResponse*) {
  Delay();
  return ToGrpc(router_->DetachContainer(*request));
}

grpc::Status FakeRouterService::CheckContainer(grpc::ServerContext*,
                                               const v1::CheckContainerRequest* request,
                                               v1::CheckContainerResponse*) {
  Delay();
  return ToGrpc(router_->CheckContainer(*request));
}

grpc::Status FakeRouterService::GarbageCollect(grpc::ServerContext*,
                                               const v1::GarbageCollectRequest* request,
                                               v1::GarbageCollectResponse* response) {
  Delay();
  return Answer(router_->GarbageCollect(*request), response);
}

grpc::Status FakeRouterService::AllocateAddress(grpc::ServerContext*,
                                                const v1::AllocateAddressRequest* request,
                                                v1::AllocateAddressResponse* response) {
  Delay();
  return Answer(router_->AllocateAddress(*request), response);
}

grpc::Status FakeRouterService::ReleaseAddress(grpc::ServerContext*,
                                               const v1::ReleaseAddressRequest* request,
                                               v1::ReleaseAddressResponse*) {
  Delay();
  return ToGrpc(router_->ReleaseAddress(*request));
}

FakeRouterServer::FakeRouterServer(std::string socket_path)
    : socket_path_(std::move(socket_path)) {}

absl::StatusOr<std::unique_ptr<FakeRouterServer>> FakeRouterServer::Start(
    const std::string& socket_path) {
  std::unique_ptr<FakeRouterServer> server(new FakeRouterServer(socket_path));
  unlink(socket_path.c_str());
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials());
  builder.RegisterService(&server->service_);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot serve the fake router on ", socket_path));
  }
  return server;
}

FakeRouterServer::~FakeRouterServer() {
  server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  server_->Wait();
  unlink(socket_path_.c_str());
}

}  // namespace weave::cni::testing
