// The Router gRPC service in front of a FakeRouterClient, on a unix socket: what the real
// weave-net binary talks to in process tests. Only the CNI, IPAM and status methods are served;
// the rest answer UNIMPLEMENTED.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cni-plugin/fake_router_client.h"
#include "weave/router.grpc.pb.h"

namespace weave::cni::testing {

class FakeRouterService final : public v1::Router::Service {
 public:
  explicit FakeRouterService(FakeRouterClient* router) : router_(router) {}

  // Each call sleeps this long before answering (to exercise deadlines).
  void set_delay(absl::Duration delay) { delay_ms_ = absl::ToInt64Milliseconds(delay); }

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

 private:
  void Delay() const;

  FakeRouterClient* router_;
  std::atomic<int64_t> delay_ms_{0};
};

// A FakeRouterClient served on `socket_path` until destroyed.
class FakeRouterServer {
 public:
  static absl::StatusOr<std::unique_ptr<FakeRouterServer>> Start(const std::string& socket_path);
  ~FakeRouterServer();

  FakeRouterClient& router() { return router_; }
  FakeRouterService& service() { return service_; }
  const std::string& socket_path() const { return socket_path_; }

 private:
  explicit FakeRouterServer(std::string socket_path);

  std::string socket_path_;
  FakeRouterClient router_;
  FakeRouterService service_{&router_};
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace weave::cni::testing
