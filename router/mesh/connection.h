// One TCP connection to another peer: the handshake (protocol header, hello, sealed identity),
// then length-prefixed messages, sealed when a password is set. Reading happens on the thread
// that owns the connection; writing on the connection's own writer thread, fed by a bounded
// queue, so that a peer that stops reading never blocks the rest of the router.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/crypto/box.h"
#include "common/net/ip.h"
#include "common/peer_name.h"
#include "router/mesh/socket.h"
#include "router/mesh/wire.h"
#include "weave/mesh.pb.h"

namespace weave::mesh {

// What this peer says about itself in every handshake.
struct LocalIdentity {
  PeerName name;
  std::string nickname;
  uint64_t uid = 0;
  uint16_t short_id = 0;
  uint16_t listen_port = 0;
  uint8_t min_version = 1;
  uint8_t max_version = 2;
  std::string password;  // empty: no encryption
  std::vector<net::Cidr> trusted_subnets;
  std::vector<std::string> overlays;
};

// The other end, as its handshake described it.
struct RemoteIdentity {
  PeerName name;
  std::string nickname;
  uint64_t uid = 0;
  uint16_t short_id = 0;
  bool has_short_id = false;
  bool trusted_by_remote = false;
  uint16_t listen_port = 0;
  std::vector<std::string> overlays;
};

// Handshake failures that mean "never dial this address again".
enum class HandshakeError { kOther, kOriginalWeave };

class Connection {
 public:
  // `target` is the address we dialled ("" for inbound connections).
  Connection(Fd fd, bool outbound, std::string target);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs the handshake within `deadline`. The error says what the peer did wrong, in a form
  // that reads after "connection with <address>: ".
  absl::Status Handshake(const LocalIdentity& local, absl::Time deadline);
  bool original_weave() const { return original_weave_; }

  // Starts the writer thread; Send queues a message for it. False when the connection is
  // closing or its queue overflowed (the connection is then shut down).
  void StartWriter();
  bool Send(const v1::Message& message);
  // Queues a refusal, lets the writer flush it (briefly), then shuts the connection down.
  void Refuse(v1::Refusal::Code code, const std::string& reason);

  // The next message, waiting at most until `deadline` (DeadlineExceeded then).
  absl::StatusOr<v1::Message> Receive(absl::Time deadline);

  // Wakes the reader and the writer; both then fail. Idempotent, any thread.
  void Shutdown();
  // Joins the writer. Call from the owning thread after the reader stopped.
  void Close();

  bool outbound() const { return outbound_; }
  const std::string& target() const { return target_; }
  // The remote end as seen on the socket (ip:port).
  const std::string& remote_address() const { return remote_address_; }
  const std::string& remote_ip() const { return remote_ip_; }
  // ip:listen-port of the remote: what to dial to reach it.
  std::string dial_address() const;
  const RemoteIdentity& remote() const { return remote_; }
  bool encrypted() const { return sealer_ != nullptr; }
  // The key for this link's sealed data plane (sleeve), when encrypted.
  const std::optional<crypto::Key32>& data_key() const { return data_key_; }
  // Both ends trust each other's address: the data plane may skip encryption.
  bool trusted() const { return trusted_; }
  // Same value at both ends; the lower one wins when two connections join the same peers.
  uint64_t uid() const { return uid_; }
  uint32_t version() const { return version_; }

 private:
  absl::StatusOr<std::string> ReadFrame(absl::Time deadline);
  absl::Status WriteFrame(absl::string_view payload, absl::Time deadline);
  void WriterLoop();

  Fd fd_;
  const bool outbound_;
  const std::string target_;
  std::string remote_address_;
  std::string remote_ip_;
  RemoteIdentity remote_;
  uint64_t uid_ = 0;
  uint32_t version_ = 0;
  bool trusted_ = false;
  bool original_weave_ = false;
  FrameReader reader_;
  std::optional<crypto::Key32> data_key_;  // set by the handshake, then read-only
  std::unique_ptr<crypto::Sealer> sealer_;  // writer thread only after the handshake
  std::unique_ptr<crypto::Opener> opener_;  // reader thread only

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;  // serialized messages, not yet sealed
  size_t queued_bytes_ = 0;
  bool closing_ = false;
  bool flush_then_close_ = false;
  std::thread writer_;
};

}  // namespace weave::mesh
