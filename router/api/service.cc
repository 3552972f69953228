#include "router/api/service.h"

namespace weave::router {

grpc::Status RouterService::GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                                      v1::Status* response) {
  *response = router_->Status();
  return grpc::Status::OK;
}

}  // namespace weave::router
