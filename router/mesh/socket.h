// Blocking TCP plumbing for the mesh, with deadlines: a peer that stalls can hold up only the
// thread serving its own connection, and only until the deadline.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace weave::mesh {

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  ~Fd();
  int get() const { return fd_; }
  int release();

 private:
  int fd_ = -1;
};

// A listening socket on host:port ("0.0.0.0" for every address).
absl::StatusOr<Fd> Listen(const std::string& host, uint16_t port);

// Connects to host:port (a name is resolved) within `timeout`.
absl::StatusOr<Fd> Dial(const std::string& host, uint16_t port, absl::Duration timeout);

// Writes all of `data`; fails when the socket is closed or `deadline` passes.
absl::Status WriteAll(int fd, absl::string_view data, absl::Time deadline);

// Reads what is available (at most `capacity` bytes) into `buffer`, waiting until `deadline`.
// OK with 0 bytes means the peer closed the connection; DeadlineExceeded when nothing came.
absl::StatusOr<size_t> ReadSome(int fd, char* buffer, size_t capacity, absl::Time deadline);

// "192.168.1.2:6783" for the peer / local end of a connected socket.
std::string PeerAddress(int fd);
std::string PeerIp(int fd);

}  // namespace weave::mesh
