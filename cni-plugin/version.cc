#include "cni-plugin/version.h"

#include <cstddef>

namespace weave::cni {

std::optional<CniVersion> ParseCniVersion(absl::string_view text) {
  for (size_t i = 0; i < kSupportedVersions.size(); ++i) {
    if (kSupportedVersions[i] == text) return static_cast<CniVersion>(i);
  }
  return std::nullopt;
}

absl::string_view VersionString(CniVersion version) {
  return kSupportedVersions[static_cast<size_t>(version)];
}

}  // namespace weave::cni
