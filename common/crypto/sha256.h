// SHA-256 (libsodium). Only common/crypto includes sodium headers.
#pragma once

#include <array>
#include <cstdint>
#include "absl/strings/string_view.h"

namespace weave::crypto {

std::array<uint8_t, 32> Sha256(absl::string_view data);

}  // namespace weave::crypto
