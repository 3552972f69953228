#include "router/identity.h"

#include <fstream>
#include <sstream>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "common/crypto/sha256.h"

namespace weave::router {
namespace {

std::string ReadTrimmed(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "";
  std::stringstream contents;
  contents << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(contents.str()));
}

std::string FirstPresent(const std::string& root, std::initializer_list<const char*> paths) {
  for (const char* path : paths) {
    std::string value = ReadTrimmed(root + path);
    if (!value.empty()) return value;
  }
  return "";
}

PeerName LocallyAdministered(const uint8_t* bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 6; ++i) value = (value << 8) | bytes[i];
  // Clear the multicast bit, set the locally-administered bit of the first octet.
  value = (value & ~(uint64_t{0x01} << 40)) | (uint64_t{0x02} << 40);
  return PeerName(value);
}

}  // namespace

HostIds ReadHostIds(const std::string& host_root) {
  std::string root = host_root == "/" ? "" : host_root;
  return HostIds{
      FirstPresent(root, {"/etc/machine-id", "/var/lib/dbus/machine-id"}),
      FirstPresent(root, {"/sys/class/dmi/id/product_uuid", "/sys/hypervisor/uuid"}),
  };
}

std::optional<PeerName> PeerNameFromHostIds(const HostIds& ids) {
  if (ids.machine_id.empty() && ids.product_uuid.empty()) return std::nullopt;
  auto digest = crypto::Sha256("9oBJ0Jmip-" + ids.machine_id + ids.product_uuid);
  return LocallyAdministered(digest.data());
}

PeerName RandomPeerName() {
  absl::BitGen gen;
  uint8_t bytes[6];
  for (uint8_t& b : bytes) b = absl::Uniform<uint8_t>(gen);
  return LocallyAdministered(bytes);
}

uint64_t RandomPeerUid() {
  absl::BitGen gen;
  return absl::Uniform<uint64_t>(absl::IntervalClosed, gen, 1, ~uint64_t{0});
}

}  // namespace weave::router
