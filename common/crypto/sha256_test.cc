#include "common/crypto/sha256.h"

#include <catch2/catch.hpp>

namespace weave::crypto {
namespace {

TEST_CASE("Sha256 matches the FIPS 180-2 test vector", "[crypto]") {
  auto digest = Sha256("abc");
  CHECK(digest[0] == 0xba);
  CHECK(digest[1] == 0x78);
  CHECK(digest[31] == 0xad);
}

}  // namespace
}  // namespace weave::crypto
