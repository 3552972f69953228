#include "test/harness/host_root.h"

#include <filesystem>
#include <fstream>
#include <random>
#include <system_error>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace weave::testing {
namespace {

// 16 unpredictable bytes (std::random_device: the CPU's or the kernel's generator).
std::string RandomBytes() {
  std::random_device random;
  std::string bytes(16, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random() & 0xff);
  return bytes;
}

// RFC 4122 version-4 UUID in lower case, as the kernel prints product_uuid.
std::string RandomUuid() {
  std::string bytes = RandomBytes();
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x40);  // Version 4: random.
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);  // Variant 10xx.
  const std::string hex = absl::BytesToHexString(bytes);
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                      hex.substr(16, 4), "-", hex.substr(20));
}

absl::Status WriteFile(const std::filesystem::path& path, const std::string& contents) {
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("creating ", path.parent_path().string(), ": ", error.message()));
  }
  std::ofstream file(path, std::ios::trunc);
  file << contents;
  file.close();
  if (!file) return absl::InternalError(absl::StrCat("writing ", path.string()));
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFakeHostRoot(const std::string& root) {
  const std::filesystem::path base(root);
  RETURN_IF_ERROR(WriteFile(base / "etc/machine-id", absl::BytesToHexString(RandomBytes()) + "\n"));
  return WriteFile(base / "sys/class/dmi/id/product_uuid", RandomUuid() + "\n");
}

}  // namespace weave::testing
