#include "common/crypto/box.h"

#include <sodium.h>

#include <cstdlib>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "spdlog/spdlog.h"

namespace weave::crypto {
namespace {

static_assert(crypto_box_PUBLICKEYBYTES == 32 && crypto_box_SECRETKEYBYTES == 32);
static_assert(crypto_box_BEFORENMBYTES == 32 && crypto_hash_sha256_BYTES == 32);
static_assert(crypto_secretbox_KEYBYTES == 32 && crypto_secretbox_NONCEBYTES == 24);
static_assert(crypto_secretbox_MACBYTES == kSealOverhead);

// Marks a spent channel; a live counter reaching it has exhausted its nonces.
constexpr uint64_t kSpent = std::numeric_limits<uint64_t>::max();

// sodium_init is thread-safe and idempotent; the static runs it once before first use.
void EnsureSodium() {
  static const int result = sodium_init();
  if (result < 0) {
    spdlog::critical("libsodium failed to initialise");
    std::abort();
  }
}

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

}  // namespace

KeyPair::~KeyPair() { sodium_memzero(secret_key.data(), secret_key.size()); }

KeyPair GenerateKeyPair() {
  EnsureSodium();
  KeyPair pair;
  crypto_box_keypair(pair.public_key.data(), pair.secret_key.data());
  return pair;
}

absl::StatusOr<Key32> DeriveSessionKey(const KeyPair& ours, absl::string_view their_public,
                                       absl::string_view password) {
  EnsureSodium();
  if (their_public.size() != crypto_box_PUBLICKEYBYTES) {
    return absl::InvalidArgumentError(absl::StrFormat("peer's public key has %d bytes, expected %d",
                                                      their_public.size(),
                                                      crypto_box_PUBLICKEYBYTES));
  }
  Key32 shared;
  if (crypto_box_beforenm(shared.data(), Bytes(their_public), ours.secret_key.data()) != 0) {
    return absl::InvalidArgumentError("peer's public key is a weak (low-order) point");
  }
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, shared.data(), shared.size());
  crypto_hash_sha256_update(&state, Bytes(password), password.size());
  Key32 session;
  crypto_hash_sha256_final(&state, session.data());
  sodium_memzero(shared.data(), shared.size());
  sodium_memzero(&state, sizeof(state));
  return session;
}

Key32 DeriveDataKey(const Key32& session_key) {
  EnsureSodium();
  static constexpr char kLabel[] = "weave-cc sleeve v1";
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(kLabel),
                            sizeof(kLabel) - 1);
  crypto_hash_sha256_update(&state, session_key.data(), session_key.size());
  Key32 key;
  crypto_hash_sha256_final(&state, key.data());
  sodium_memzero(&state, sizeof(state));
  return key;
}

void SealDetached(const Key32& key, const Nonce24& nonce, const uint8_t* plaintext, size_t size,
                  uint8_t* ciphertext, uint8_t* tag) {
  EnsureSodium();
  crypto_secretbox_detached(ciphertext, tag, plaintext, size, nonce.data(), key.data());
}

bool OpenInPlace(const Key32& key, const Nonce24& nonce, uint8_t* data, size_t size,
                 const uint8_t* tag) {
  EnsureSodium();
  return crypto_secretbox_open_detached(data, data, tag, size, nonce.data(), key.data()) == 0;
}

uint8_t TcpNoncePrefix(bool sender_outbound) { return (sender_outbound ? 0x80 : 0) | 0x40; }

namespace internal {

NonceChannel::NonceChannel(const Key32& key, uint8_t prefix) : key_(key), prefix_(prefix) {
  EnsureSodium();
}

NonceChannel::~NonceChannel() { Spend(); }

NonceChannel::NonceChannel(NonceChannel&& other) noexcept
    : key_(other.key_), prefix_(other.prefix_), sequence_(other.sequence_) {
  other.Spend();
}

NonceChannel& NonceChannel::operator=(NonceChannel&& other) noexcept {
  if (this != &other) {
    key_ = other.key_;
    prefix_ = other.prefix_;
    sequence_ = other.sequence_;
    other.Spend();
  }
  return *this;
}

void NonceChannel::Spend() {
  sodium_memzero(key_.data(), key_.size());
  sequence_ = kSpent;
}

std::array<uint8_t, 24> NonceChannel::Nonce() const {
  if (sequence_ == kSpent) {
    spdlog::critical("crypto: nonce channel used after move or with its counter exhausted");
    std::abort();
  }
  std::array<uint8_t, 24> nonce{};
  nonce[0] = prefix_;
  for (int i = 0; i < 8; ++i) nonce[23 - i] = static_cast<uint8_t>(sequence_ >> (8 * i));
  return nonce;
}

}  // namespace internal

Sealer::Sealer(const Key32& key, uint8_t nonce_prefix) : channel_(key, nonce_prefix) {}

std::string Sealer::Seal(absl::string_view plaintext) {
  std::string sealed(kSealOverhead + plaintext.size(), '\0');
  crypto_secretbox_easy(Bytes(sealed), Bytes(plaintext), plaintext.size(), channel_.Nonce().data(),
                        channel_.key());
  channel_.Advance();
  return sealed;
}

Opener::Opener(const Key32& key, uint8_t nonce_prefix) : channel_(key, nonce_prefix) {}

absl::StatusOr<std::string> Opener::Open(absl::string_view sealed) {
  const auto nonce = channel_.Nonce();
  if (sealed.size() >= kSealOverhead) {
    std::string plaintext(sealed.size() - kSealOverhead, '\0');
    if (crypto_secretbox_open_easy(Bytes(plaintext), Bytes(sealed), sealed.size(), nonce.data(),
                                   channel_.key()) == 0) {
      channel_.Advance();
      return plaintext;
    }
  }
  return absl::PermissionDeniedError(absl::StrFormat(
      "cannot decrypt message %d from peer (wrong password, or a tampered, replayed or "
      "reordered message)",
      channel_.sequence()));
}

}  // namespace weave::crypto
