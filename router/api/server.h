// Serves the Router gRPC API on a unix socket that only root can use.
//
// One weaver per socket: a lock file beside the socket (<socket>.lock, flock) is held for the
// life of the server, so a second weaver refuses to start with a clear message, and a socket
// file left by a crashed weaver (no lock holder) is replaced.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace grpc {
class Server;
class Service;
}  // namespace grpc

namespace weave::router {

class ApiServer {
 public:
  // `service` must outlive the server. Server reflection is enabled.
  static absl::StatusOr<std::unique_ptr<ApiServer>> Start(const std::string& socket_path,
                                                          grpc::Service* service);
  ~ApiServer();

  // Stops serving (in-flight calls get a short grace), removes the socket file and releases
  // the lock. Idempotent.
  void Stop();

 private:
  ApiServer() = default;
  std::string socket_path_;
  int lock_fd_ = -1;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace weave::router
