#include "router/api/server.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace weave::router {
namespace {

absl::Status Errno(int err, absl::string_view doing) {
  return absl::ErrnoToStatus(err, absl::StrCat(doing));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ApiServer>> ApiServer::Start(const std::string& socket_path,
                                                            grpc::Service* service) {
  std::unique_ptr<ApiServer> api(new ApiServer());
  api->socket_path_ = socket_path;

  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(socket_path).parent_path();
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("creating directory ", dir.string(), " for the API socket: ", ec.message()));
  }

  std::string lock_path = socket_path + ".lock";
  api->lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (api->lock_fd_ < 0) return Errno(errno, absl::StrCat("opening ", lock_path));
  if (flock(api->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return absl::FailedPreconditionError(absl::StrCat(
          "another weaver is already serving ", socket_path, " (it holds ", lock_path, ")"));
    }
    return Errno(errno, absl::StrCat("locking ", lock_path));
  }
  // We hold the lock, so any socket file is a leftover of a weaver that died.
  if (unlink(socket_path.c_str()) != 0 && errno != ENOENT) {
    return Errno(errno, absl::StrCat("removing stale socket ", socket_path));
  }

  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix://" + socket_path, grpc::InsecureServerCredentials());
  builder.RegisterService(service);
  {
    // gRPC creates the socket with the process umask: no window where others may connect.
    mode_t old_mask = umask(0077);
    absl::Cleanup restore = [old_mask] { umask(old_mask); };
    api->server_ = builder.BuildAndStart();
  }
  if (api->server_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot serve the API on ", socket_path));
  }
  if (chmod(socket_path.c_str(), 0600) != 0) {
    return Errno(errno, absl::StrCat("restricting ", socket_path, " to root"));
  }
  return api;
}

void ApiServer::Stop() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_.reset();
    unlink(socket_path_.c_str());
  }
  if (lock_fd_ >= 0) {
    close(lock_fd_);  // releases the flock
    lock_fd_ = -1;
  }
}

ApiServer::~ApiServer() { Stop(); }

}  // namespace weave::router
