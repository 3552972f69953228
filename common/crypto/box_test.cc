#include "common/crypto/box.h"

#include <sodium.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"

namespace weave::crypto {
namespace {

absl::string_view View(const Key32& key) {
  return absl::string_view(reinterpret_cast<const char*>(key.data()), key.size());
}

// The two ends of one connection: `a` dialled out, `b` accepted; each seals with its own
// direction's prefix and opens with the other's.
struct Connection {
  explicit Connection(absl::string_view password_a = "secret",
                      absl::string_view password_b = "secret")
      : a_key(DeriveSessionKey(a, View(b.public_key), password_a).value()),
        b_key(DeriveSessionKey(b, View(a.public_key), password_b).value()),
        a_sealer(a_key, TcpNoncePrefix(true)),
        b_opener(b_key, TcpNoncePrefix(true)),
        b_sealer(b_key, TcpNoncePrefix(false)),
        a_opener(a_key, TcpNoncePrefix(false)) {}

  KeyPair a = GenerateKeyPair();
  KeyPair b = GenerateKeyPair();
  Key32 a_key, b_key;
  Sealer a_sealer;
  Opener b_opener;
  Sealer b_sealer;
  Opener a_opener;
};

TEST_CASE("GenerateKeyPair gives a fresh pair each time", "[crypto]") {
  KeyPair one = GenerateKeyPair();
  KeyPair two = GenerateKeyPair();
  CHECK(one.public_key != two.public_key);
  CHECK(one.secret_key != two.secret_key);
  CHECK(one.public_key != one.secret_key);
}

TEST_CASE("Both ends derive the same session key, which depends on the password", "[crypto]") {
  Connection same;
  CHECK(same.a_key == same.b_key);
  Connection different("secret", "Secret");
  CHECK(different.a_key != different.b_key);
  // Keys are per connection, not per password.
  CHECK(same.a_key != Connection().a_key);
}

TEST_CASE("DeriveSessionKey is SHA-256 of the box key and the password", "[crypto]") {
  KeyPair a = GenerateKeyPair();
  KeyPair b = GenerateKeyPair();
  Key32 shared;
  REQUIRE(crypto_box_beforenm(shared.data(), b.public_key.data(), a.secret_key.data()) == 0);
  std::string input(View(shared));
  input += "pw";
  Key32 expected;
  crypto_hash_sha256(expected.data(), reinterpret_cast<const unsigned char*>(input.data()),
                     input.size());
  CHECK(DeriveSessionKey(a, View(b.public_key), "pw").value() == expected);
}

TEST_CASE("DeriveSessionKey rejects malformed and weak public keys", "[crypto]") {
  KeyPair ours = GenerateKeyPair();
  auto short_key = DeriveSessionKey(ours, std::string(31, 'x'), "pw");
  REQUIRE_FALSE(short_key.ok());
  CHECK(short_key.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(short_key.status().message() == "peer's public key has 31 bytes, expected 32");
  // The identity point: every secret key would give the all-zero shared secret.
  auto zero = DeriveSessionKey(ours, std::string(32, '\0'), "pw");
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("TcpNoncePrefix marks TCP and the sender's direction", "[crypto]") {
  CHECK(TcpNoncePrefix(true) == 0xC0);
  CHECK(TcpNoncePrefix(false) == 0x40);
}

TEST_CASE("Sealed messages open in order in both directions", "[crypto]") {
  Connection c;
  std::string sealed = c.a_sealer.Seal("hello");
  CHECK(sealed.size() == 5 + kSealOverhead);
  CHECK(sealed.find("hello") == std::string::npos);
  CHECK(c.b_opener.Open(sealed).value() == "hello");
  CHECK(c.b_opener.Open(c.a_sealer.Seal("")).value().empty());
  CHECK(c.a_opener.Open(c.b_sealer.Seal("reply")).value() == "reply");
}

TEST_CASE("Seal numbers nonces from 0 with a big-endian counter", "[crypto]") {
  Connection c;
  CHECK(c.a_sealer.sequence() == 0);
  std::string sealed;
  for (int i = 0; i <= 0x102; ++i) sealed = c.a_sealer.Seal("m");
  CHECK(c.a_sealer.sequence() == 0x103);
  // The last message used sequence 0x102: prefix byte, zeros, then the counter at the end.
  std::array<uint8_t, 24> nonce{};
  nonce[0] = 0xC0;
  nonce[22] = 0x01;
  nonce[23] = 0x02;
  std::string plain(1, '\0');
  CHECK(crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                   reinterpret_cast<const unsigned char*>(sealed.data()),
                                   sealed.size(), nonce.data(), c.a_key.data()) == 0);
  CHECK(plain == "m");
}

TEST_CASE("A different password cannot open the messages", "[crypto]") {
  Connection c("secret", "wrong");
  auto opened = c.b_opener.Open(c.a_sealer.Seal("hello"));
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(absl::StrContains(opened.status().message(), "cannot decrypt message 0 from peer"));
}

TEST_CASE("A replayed message fails and does not advance the counter", "[crypto]") {
  Connection c;
  std::string first = c.a_sealer.Seal("first");
  REQUIRE(c.b_opener.Open(first).ok());
  auto replay = c.b_opener.Open(first);
  REQUIRE_FALSE(replay.ok());
  CHECK(replay.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(absl::StrContains(replay.status().message(), "message 1"));
  CHECK(c.b_opener.sequence() == 1);
  CHECK(c.b_opener.Open(c.a_sealer.Seal("second")).value() == "second");
}

TEST_CASE("Reordered messages fail", "[crypto]") {
  Connection c;
  std::string m0 = c.a_sealer.Seal("zero");
  std::string m1 = c.a_sealer.Seal("one");
  CHECK_FALSE(c.b_opener.Open(m1).ok());
  CHECK(c.b_opener.Open(m0).value() == "zero");
  CHECK(c.b_opener.Open(m1).value() == "one");
}

TEST_CASE("Tampering with any byte, or truncating, fails", "[crypto]") {
  Connection c;
  const std::string sealed = c.a_sealer.Seal("payload");
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] ^= 0x01;
    INFO("byte " << i);
    CHECK(c.b_opener.Open(tampered).status().code() == absl::StatusCode::kPermissionDenied);
  }
  CHECK_FALSE(c.b_opener.Open(sealed.substr(0, sealed.size() - 1)).ok());
  CHECK_FALSE(c.b_opener.Open(sealed.substr(0, kSealOverhead - 1)).ok());
  CHECK_FALSE(c.b_opener.Open("").ok());
  CHECK(c.b_opener.Open(sealed).value() == "payload");
}

TEST_CASE("A message is not accepted back by its own sender's direction", "[crypto]") {
  Connection c;
  // Reflecting a's message back to a: same key, same counter, but the other direction's prefix.
  CHECK_FALSE(c.a_opener.Open(c.a_sealer.Seal("reflected")).ok());
  CHECK_FALSE(c.b_opener.Open(c.b_sealer.Seal("reflected")).ok());
}

TEST_CASE("A moved Sealer continues its sequence", "[crypto]") {
  Connection c;
  REQUIRE(c.b_opener.Open(c.a_sealer.Seal("before")).ok());
  Sealer moved = std::move(c.a_sealer);
  CHECK(moved.sequence() == 1);
  CHECK(c.b_opener.Open(moved.Seal("after")).value() == "after");
  Opener opener = std::move(c.a_opener);
  CHECK(opener.Open(c.b_sealer.Seal("reply")).value() == "reply");
}

// ---- Datagrams ----

Key32 FilledKey(uint8_t value) {
  Key32 key;
  key.fill(value);
  return key;
}

Nonce24 CountedNonce(uint64_t counter) {
  Nonce24 nonce{};
  for (int i = 0; i < 8; ++i) nonce[23 - i] = static_cast<uint8_t>(counter >> (8 * i));
  return nonce;
}

TEST_CASE("SealInPlace is secretbox with the tag apart, and OpenInPlace undoes it", "[crypto]") {
  const Key32 key = FilledKey(7);
  const Nonce24 nonce = CountedNonce(42);
  const std::string message = "a frame's bytes, sealed where they lie";
  std::string data = message;
  uint8_t tag[kSealOverhead];
  SealInPlace(key, nonce, reinterpret_cast<uint8_t*>(data.data()), data.size(), tag);
  CHECK(data != message);

  // The same bytes as crypto_secretbox_easy: the tag, then the ciphertext.
  std::string easy(kSealOverhead + message.size(), '\0');
  crypto_secretbox_easy(reinterpret_cast<unsigned char*>(easy.data()),
                        reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                        nonce.data(), key.data());
  CHECK(easy == std::string(reinterpret_cast<const char*>(tag), kSealOverhead) + data);

  REQUIRE(OpenInPlace(key, nonce, reinterpret_cast<uint8_t*>(data.data()), data.size(), tag));
  CHECK(data == message);
}

TEST_CASE("SealDetached into another buffer equals sealing in place", "[crypto]") {
  const Key32 key = FilledKey(9);
  const Nonce24 nonce = CountedNonce(1);
  std::vector<uint8_t> plain(3000);
  for (size_t i = 0; i < plain.size(); ++i) plain[i] = static_cast<uint8_t>(i * 31);
  std::vector<uint8_t> copy(plain.size());
  uint8_t copy_tag[kSealOverhead];
  SealDetached(key, nonce, plain.data(), plain.size(), copy.data(), copy_tag);
  std::vector<uint8_t> in_place = plain;
  uint8_t in_place_tag[kSealOverhead];
  SealInPlace(key, nonce, in_place.data(), in_place.size(), in_place_tag);
  CHECK(copy == in_place);
  CHECK(std::equal(copy_tag, copy_tag + kSealOverhead, in_place_tag));
  REQUIRE(OpenInPlace(key, nonce, copy.data(), copy.size(), copy_tag));
  CHECK(copy == plain);
  // An empty message has a tag too.
  uint8_t empty_tag[kSealOverhead];
  SealInPlace(key, nonce, nullptr, 0, empty_tag);
  CHECK(OpenInPlace(key, nonce, nullptr, 0, empty_tag));
  CHECK_FALSE(OpenInPlace(key, CountedNonce(2), nullptr, 0, empty_tag));
}

TEST_CASE("OpenInPlace rejects tampering, another key or nonce, and leaves the bytes", "[crypto]") {
  const Key32 key = FilledKey(1);
  const Nonce24 nonce = CountedNonce(5);
  std::vector<uint8_t> sealed(100, 0xab);
  uint8_t tag[kSealOverhead];
  SealInPlace(key, nonce, sealed.data(), sealed.size(), tag);
  auto opens = [&](const Key32& k, const Nonce24& n, std::vector<uint8_t> bytes, const uint8_t* t) {
    const std::vector<uint8_t> before = bytes;
    const bool ok = OpenInPlace(k, n, bytes.data(), bytes.size(), t);
    if (!ok) CHECK(bytes == before);
    return ok;
  };
  CHECK_FALSE(opens(FilledKey(2), nonce, sealed, tag));
  CHECK_FALSE(opens(key, CountedNonce(6), sealed, tag));
  Nonce24 first_byte = nonce;
  first_byte[0] ^= 0x80;
  CHECK_FALSE(opens(key, first_byte, sealed, tag));
  for (size_t i = 0; i < sealed.size(); i += 7) {
    std::vector<uint8_t> tampered = sealed;
    tampered[i] ^= 0x01;
    INFO("byte " << i);
    CHECK_FALSE(opens(key, nonce, tampered, tag));
  }
  for (size_t i = 0; i < kSealOverhead; ++i) {
    uint8_t bad_tag[kSealOverhead];
    std::copy(tag, tag + kSealOverhead, bad_tag);
    bad_tag[i] ^= 0x01;
    INFO("tag byte " << i);
    CHECK_FALSE(opens(key, nonce, sealed, bad_tag));
  }
  CHECK_FALSE(OpenInPlace(key, nonce, sealed.data(), sealed.size() - 1, tag));
  CHECK(opens(key, nonce, sealed, tag));
}

}  // namespace
}  // namespace weave::crypto
