// The Router gRPC service. Methods not overridden here answer UNIMPLEMENTED (gRPC's
// default); they arrive with the components that own them (CNI, IPAM, mesh, npc).
#pragma once

#include "router/router.h"
#include "weave/router.grpc.pb.h"

namespace weave::router {

class RouterService final : public v1::Router::Service {
 public:
  explicit RouterService(Router* router) : router_(router) {}

  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::Status* response) override;

 private:
  Router* router_;
};

}  // namespace weave::router
