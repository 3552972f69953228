// The CNI spec versions this plugin speaks, and what each one allows.
#pragma once

#include <array>
#include <optional>

#include "absl/strings/string_view.h"

namespace weave::cni {

// Ordered: a later enumerator is a later spec.
enum class CniVersion { k0_3_0, k0_3_1, k0_4_0, k1_0_0, k1_1_0 };

inline constexpr CniVersion kLatestVersion = CniVersion::k1_1_0;

// "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0": what VERSION lists.
inline constexpr std::array<absl::string_view, 5> kSupportedVersions = {"0.3.0", "0.3.1", "0.4.0",
                                                                        "1.0.0", "1.1.0"};

// Exactly one of kSupportedVersions; anything else (including "0.2.0" or "1.1") is nullopt.
std::optional<CniVersion> ParseCniVersion(absl::string_view text);
absl::string_view VersionString(CniVersion version);

// CHECK arrived in 0.4.0; GC and STATUS in 1.1.0.
inline bool SupportsCheck(CniVersion version) { return version >= CniVersion::k0_4_0; }
inline bool SupportsGcAndStatus(CniVersion version) { return version >= CniVersion::k1_1_0; }
// Before 1.0.0 every ips entry carries "version": "4" or "6".
inline bool IpsCarryVersion(CniVersion version) { return version < CniVersion::k1_0_0; }
// 1.1.0 added "mtu" to interfaces.
inline bool InterfacesCarryMtu(CniVersion version) { return version >= CniVersion::k1_1_0; }

}  // namespace weave::cni
