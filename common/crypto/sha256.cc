#include "common/crypto/sha256.h"

#include <sodium.h>

namespace weave::crypto {

std::array<uint8_t, 32> Sha256(absl::string_view data) {
  std::array<uint8_t, 32> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size());
  return digest;
}

}  // namespace weave::crypto
