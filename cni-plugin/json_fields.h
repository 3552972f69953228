// Reading fields of a JSON object without exceptions, for the network configuration and CNI
// results.
//
// Absent and null mean "not there" (nullopt / nullptr). A value of the wrong type is an error
// tagged CNI code 7 (invalid network configuration) that names the field by `path`, its dotted
// name in the document ("ipam.type", "prevResult.ips[0].address").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace weave::cni::internal {

// `object` must be a JSON object.
absl::StatusOr<std::optional<std::string>> GetString(const nlohmann::json& object,
                                                     absl::string_view key, absl::string_view path);
absl::StatusOr<std::optional<bool>> GetBool(const nlohmann::json& object, absl::string_view key,
                                            absl::string_view path);
// A non-negative integer no larger than `max`.
absl::StatusOr<std::optional<uint64_t>> GetUnsigned(const nlohmann::json& object,
                                                    absl::string_view key, absl::string_view path,
                                                    uint64_t max);
// Pointers into `object`, valid while it lives.
absl::StatusOr<const nlohmann::json*> GetObject(const nlohmann::json& object, absl::string_view key,
                                                absl::string_view path);
absl::StatusOr<const nlohmann::json*> GetArray(const nlohmann::json& object, absl::string_view key,
                                               absl::string_view path);

// "path.key", or "key" when path is empty.
std::string FieldPath(absl::string_view path, absl::string_view key);

// The error for a field that must be present.
absl::Status MissingField(absl::string_view path);

}  // namespace weave::cni::internal
