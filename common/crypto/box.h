// Per-connection crypto for the mesh's TCP control channel (libsodium): an ephemeral X25519
// key exchange mixed with the shared password into a session key, and secretbox
// (XSalsa20-Poly1305) with counter nonces, so that a replayed, reordered or tampered message
// fails to open. Also the sleeve's datagram sealing (SealDetached, OpenInPlace), which works on
// buffers in place without allocating. Only common/crypto includes sodium headers.
//
// Secrets (KeyPair::secret_key, the keys held by Sealer and Opener) are wiped when their owner
// is destroyed. Copies of a KeyPair are wiped independently.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace weave::crypto {

using Key32 = std::array<uint8_t, 32>;

// Bytes Seal adds to a plaintext (the Poly1305 tag).
inline constexpr size_t kSealOverhead = 16;

struct KeyPair {
  ~KeyPair();  // Wipes secret_key.
  Key32 public_key;
  Key32 secret_key;
};

// A fresh X25519 key pair (crypto_box_keypair); one per connection.
KeyPair GenerateKeyPair();

// sessionKey = SHA-256(crypto_box_beforenm(their_public, our_secret) || password). Both ends
// derive the same key from their own pair and the other's public key. InvalidArgument if
// their_public is not 32 bytes or is a point that would give a predictable shared secret
// (a low-order point).
absl::StatusOr<Key32> DeriveSessionKey(const KeyPair& ours, absl::string_view their_public,
                                       absl::string_view password);

// The key of a link's data plane (sleeve datagrams), derived from its session key so that the
// TCP channel's nonces and the datagrams' can never meet under one key:
// SHA-256("weave-cc sleeve v1" || session_key). Both ends derive the same one.
Key32 DeriveDataKey(const Key32& session_key);

// The first nonce byte for TCP control messages: bit 7 if the *sender* initiated the TCP
// connection, bit 6 always (it marks TCP, keeping these nonces apart from any UDP use of the
// same key). The two directions of one connection thus never share a nonce.
uint8_t TcpNoncePrefix(bool sender_outbound);

// ---- Datagrams ----
// Allocation-free secretbox (XSalsa20-Poly1305) with the tag apart from the ciphertext, for
// packets sealed where they lie. The caller owns nonce uniqueness: a nonce must never be used
// twice with one key. Thread-safe (no state beyond libsodium's, initialised on first use).

using Nonce24 = std::array<uint8_t, 24>;

// Seals `size` bytes of `plaintext` into `ciphertext` and writes the kSealOverhead-byte tag to
// `tag`. `ciphertext` may be `plaintext` itself (sealing in place); otherwise the two ranges must
// not overlap, nor may `tag` overlap either.
void SealDetached(const Key32& key, const Nonce24& nonce, const uint8_t* plaintext, size_t size,
                  uint8_t* ciphertext, uint8_t* tag);
inline void SealInPlace(const Key32& key, const Nonce24& nonce, uint8_t* data, size_t size,
                        uint8_t* tag) {
  SealDetached(key, nonce, data, size, data, tag);
}

// Verifies `tag` over the `size` bytes at `data` and, only if it matches, decrypts them in place.
// False (and `data` untouched) for a wrong key, nonce or tag, or tampered bytes.
bool OpenInPlace(const Key32& key, const Nonce24& nonce, uint8_t* data, size_t size,
                 const uint8_t* tag);

namespace internal {

// A key and a nonce counter: nonce = prefix byte, 15 zero bytes, 8-byte big-endian counter.
// Move-only; a moved-from channel is spent (key wiped) and aborts if used, so that no nonce is
// ever used twice with one key.
class NonceChannel {
 public:
  NonceChannel(const Key32& key, uint8_t prefix);
  ~NonceChannel();
  NonceChannel(NonceChannel&& other) noexcept;
  NonceChannel& operator=(NonceChannel&& other) noexcept;
  NonceChannel(const NonceChannel&) = delete;
  NonceChannel& operator=(const NonceChannel&) = delete;

  std::array<uint8_t, 24> Nonce() const;  // Aborts if spent or the counter is exhausted.
  void Advance() { ++sequence_; }
  uint64_t sequence() const { return sequence_; }
  const uint8_t* key() const { return key_.data(); }

 private:
  void Spend();

  Key32 key_;
  uint8_t prefix_;
  uint64_t sequence_ = 0;
};

}  // namespace internal

// Seals our messages in order. Not thread-safe; move-only.
class Sealer {
 public:
  Sealer(const Key32& key, uint8_t nonce_prefix);
  // The Poly1305 tag followed by the ciphertext (kSealOverhead + plaintext.size() bytes).
  std::string Seal(absl::string_view plaintext);
  // The sequence number the next Seal will use: 0 at first, +1 per message.
  uint64_t sequence() const { return channel_.sequence(); }

 private:
  internal::NonceChannel channel_;
};

// Opens the peer's messages, which must arrive exactly in the order they were sealed. Construct
// it with the *peer's* nonce prefix. Not thread-safe; move-only.
class Opener {
 public:
  Opener(const Key32& key, uint8_t nonce_prefix);
  // PermissionDenied "cannot decrypt message N from peer ..." for anything that does not open
  // as the next message: a wrong key (wrong password), tampering, a replay, reordering. The
  // counter advances only on success, so after a failure the connection should be dropped.
  absl::StatusOr<std::string> Open(absl::string_view sealed);
  // The sequence number the next Open expects.
  uint64_t sequence() const { return channel_.sequence(); }

 private:
  internal::NonceChannel channel_;
};

}  // namespace weave::crypto
