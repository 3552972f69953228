#include "router/mesh/connection.h"

#include <sys/socket.h>

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace weave::mesh {
namespace {

// Queued but unsent bytes beyond this mean the peer stopped reading: the connection goes.
constexpr size_t kMaxQueuedBytes = 32 << 20;
// How long one frame may take to write before the peer counts as stalled.
constexpr absl::Duration kWriteTimeout = absl::Seconds(30);

uint64_t RandomNonZero() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  uint64_t value = 0;
  while (value == 0) value = generator();
  return value;
}

bool InTrustedSubnets(const std::vector<net::Cidr>& subnets, const std::string& ip) {
  absl::StatusOr<net::Ipv4> address = net::Ipv4::Parse(ip);
  if (!address.ok()) return false;
  for (const net::Cidr& subnet : subnets) {
    if (subnet.Contains(*address)) return true;
  }
  return false;
}

}  // namespace

Connection::Connection(Fd fd, bool outbound, std::string target)
    : fd_(std::move(fd)), outbound_(outbound), target_(std::move(target)) {
  remote_address_ = PeerAddress(fd_.get());
  remote_ip_ = PeerIp(fd_.get());
}

Connection::~Connection() {
  Shutdown();
  Close();
}

std::string Connection::dial_address() const {
  return absl::StrCat(remote_ip_, ":", remote_.listen_port);
}

absl::StatusOr<std::string> Connection::ReadFrame(absl::Time deadline) {
  char buffer[16 * 1024];
  while (true) {
    if (std::optional<std::string> frame = reader_.Next()) return std::move(*frame);
    ASSIGN_OR_RETURN(size_t n, ReadSome(fd_.get(), buffer, sizeof(buffer), deadline));
    if (n == 0) return absl::UnavailableError("connection closed by the peer");
    RETURN_IF_ERROR(reader_.Append(absl::string_view(buffer, n)));
  }
}

absl::Status Connection::WriteFrame(absl::string_view payload, absl::Time deadline) {
  return WriteAll(fd_.get(), EncodeFrame(payload), deadline);
}

absl::Status Connection::Handshake(const LocalIdentity& local, absl::Time deadline) {
  RETURN_IF_ERROR(WriteAll(fd_.get(), EncodeHeader(local.min_version, local.max_version), deadline));
  std::string received;
  Header header;
  char buffer[64];
  while (header.kind == Header::Kind::kNeedMore) {
    ASSIGN_OR_RETURN(size_t n, ReadSome(fd_.get(), buffer, sizeof(buffer), deadline));
    if (n == 0) return absl::UnavailableError("connection closed during the handshake");
    received.append(buffer, n);
    ASSIGN_OR_RETURN(header, ParseHeader(received));
  }
  if (header.kind == Header::Kind::kOriginalWeave) {
    original_weave_ = true;
    return absl::FailedPreconditionError(absl::StrCat(
        "it speaks the original Weave Net 2.x protocol (versions ", header.min_version, "..",
        header.max_version, "), which this release cannot join: replace the weave-net "
        "DaemonSet on every node (README, upgrading from Weave Net 2.x)"));
  }
  ASSIGN_OR_RETURN(uint8_t version, NegotiateVersion(local.min_version, local.max_version,
                                                     header.min_version, header.max_version));
  version_ = version;
  RETURN_IF_ERROR(reader_.Append(absl::string_view(received).substr(header.consumed)));

  // Hello: whether each side encrypts, and its ephemeral public key.
  const bool encrypt = !local.password.empty();
  std::optional<crypto::KeyPair> keys;
  v1::Hello hello;
  hello.set_encrypted(encrypt);
  if (encrypt) {
    keys = crypto::GenerateKeyPair();
    hello.set_public_key(keys->public_key.data(), keys->public_key.size());
  }
  RETURN_IF_ERROR(WriteFrame(hello.SerializeAsString(), deadline));
  ASSIGN_OR_RETURN(std::string hello_bytes, ReadFrame(deadline));
  v1::Hello their_hello;
  if (!their_hello.ParseFromString(hello_bytes)) {
    return absl::InvalidArgumentError("sent a malformed hello");
  }
  if (encrypt && !their_hello.encrypted()) {
    return absl::PermissionDeniedError(
        "it has no password but we have one: set the same WEAVE_PASSWORD on every node");
  }
  if (!encrypt && their_hello.encrypted()) {
    return absl::PermissionDeniedError(
        "it uses a password but we have none: set the same WEAVE_PASSWORD on every node");
  }
  if (encrypt) {
    ASSIGN_OR_RETURN(crypto::Key32 session,
                     crypto::DeriveSessionKey(*keys, their_hello.public_key(), local.password));
    data_key_ = crypto::DeriveDataKey(session);
    sealer_ = std::make_unique<crypto::Sealer>(session, crypto::TcpNoncePrefix(outbound_));
    opener_ = std::make_unique<crypto::Opener>(session, crypto::TcpNoncePrefix(!outbound_));
  }

  // Identity, sealed when encrypting: a wrong password shows here, as a frame that won't open.
  const uint64_t conn_id = RandomNonZero();
  const bool we_trust = InTrustedSubnets(local.trusted_subnets, remote_ip_);
  v1::Identity identity;
  identity.set_name(local.name.value());
  identity.set_nickname(local.nickname);
  identity.set_uid(local.uid);
  identity.set_conn_id(conn_id);
  identity.set_short_id(local.short_id);
  identity.set_has_short_id(true);
  identity.set_trusted(we_trust);
  for (const std::string& overlay : local.overlays) identity.add_overlays(overlay);
  identity.set_listen_port(local.listen_port);
  std::string identity_bytes = identity.SerializeAsString();
  if (sealer_) identity_bytes = sealer_->Seal(identity_bytes);
  RETURN_IF_ERROR(WriteFrame(identity_bytes, deadline));
  ASSIGN_OR_RETURN(std::string their_bytes, ReadFrame(deadline));
  if (opener_) {
    absl::StatusOr<std::string> opened = opener_->Open(their_bytes);
    if (!opened.ok()) {
      return absl::PermissionDeniedError(
          "its messages do not decrypt: the peers' passwords differ");
    }
    their_bytes = std::move(*opened);
  }
  v1::Identity theirs;
  if (!theirs.ParseFromString(their_bytes)) {
    return absl::InvalidArgumentError("sent a malformed identity");
  }
  if (theirs.name() == 0 || theirs.name() > 0xffffffffffffULL) {
    return absl::InvalidArgumentError(absl::StrCat("sent an invalid peer name ", theirs.name()));
  }
  if (theirs.uid() == 0 || theirs.conn_id() == 0) {
    return absl::InvalidArgumentError("sent an identity without uid or connection id");
  }
  if (theirs.listen_port() == 0 || theirs.listen_port() > 65535 || theirs.short_id() > 0xfff) {
    return absl::InvalidArgumentError("sent an identity with an invalid port or short id");
  }
  remote_.name = PeerName(theirs.name());
  remote_.nickname = theirs.nickname().substr(0, 255);
  remote_.uid = theirs.uid();
  remote_.short_id = static_cast<uint16_t>(theirs.short_id());
  remote_.has_short_id = theirs.has_short_id();
  remote_.trusted_by_remote = theirs.trusted();
  remote_.listen_port = static_cast<uint16_t>(theirs.listen_port());
  remote_.overlays.assign(theirs.overlays().begin(), theirs.overlays().end());
  uid_ = conn_id ^ theirs.conn_id();
  trusted_ = we_trust && theirs.trusted();
  return absl::OkStatus();
}

void Connection::StartWriter() {
  writer_ = std::thread([this] { WriterLoop(); });
}

bool Connection::Send(const v1::Message& message) {
  std::string bytes = message.SerializeAsString();
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_ || flush_then_close_) return false;
  if (queued_bytes_ + bytes.size() > kMaxQueuedBytes) {
    closing_ = true;
    shutdown(fd_.get(), SHUT_RDWR);
    cv_.notify_all();
    return false;
  }
  queued_bytes_ += bytes.size();
  queue_.push_back(std::move(bytes));
  cv_.notify_all();
  return true;
}

void Connection::Refuse(v1::Refusal::Code code, const std::string& reason) {
  v1::Message message;
  message.mutable_refusal()->set_code(code);
  message.mutable_refusal()->set_reason(reason);
  if (!writer_.joinable()) {
    // No writer yet (refused at registration): write it ourselves, briefly.
    std::string bytes = message.SerializeAsString();
    if (sealer_) bytes = sealer_->Seal(bytes);
    (void)WriteFrame(bytes, absl::Now() + absl::Seconds(1));
    Shutdown();
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (closing_ || flush_then_close_) return;
  queue_.push_back(message.SerializeAsString());
  flush_then_close_ = true;
  cv_.notify_all();
}

void Connection::WriterLoop() {
  while (true) {
    std::string bytes;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return closing_ || !queue_.empty() || flush_then_close_; });
      if (closing_) return;
      if (queue_.empty()) {  // flushed: now close
        closing_ = true;
        shutdown(fd_.get(), SHUT_RDWR);
        return;
      }
      bytes = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= std::min(queued_bytes_, bytes.size());
    }
    if (sealer_) bytes = sealer_->Seal(bytes);
    if (!WriteFrame(bytes, absl::Now() + kWriteTimeout).ok()) {
      Shutdown();
      return;
    }
  }
}

absl::StatusOr<v1::Message> Connection::Receive(absl::Time deadline) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFrame(deadline));
  if (opener_) {
    absl::StatusOr<std::string> opened = opener_->Open(bytes);
    if (!opened.ok()) return absl::PermissionDeniedError("sent a message that does not decrypt");
    bytes = std::move(*opened);
  }
  v1::Message message;
  if (!message.ParseFromString(bytes)) return absl::InvalidArgumentError("sent a malformed message");
  return message;
}

void Connection::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  closing_ = true;
  if (fd_.get() >= 0) shutdown(fd_.get(), SHUT_RDWR);
  cv_.notify_all();
}

void Connection::Close() {
  if (writer_.joinable() && writer_.get_id() != std::this_thread::get_id()) writer_.join();
}

}  // namespace weave::mesh
