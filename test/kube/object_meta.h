// Small rules about object metadata shared by the store's verbs. Pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "test/kube/resources.h"

namespace weave::testing::kube {

// object.<field> as a string, "" when absent or not a string (never throws, unlike json::value).
std::string StringField(const nlohmann::json& object, const char* field);

// metadata.<field> as a string, "" when absent or not a string.
std::string MetaString(const nlohmann::json& object, const char* field);

// Why `name` cannot be a URL path segment ("may not contain '/'"), "" when it can
// (apimachinery's path.IsValidPathSegmentName).
std::string PathSegmentNameProblem(absl::string_view name);

// Namespaces must be DNS labels, RBAC objects' names path segments, other names DNS subdomains
// (RFC 1123); Invalid otherwise.
absl::Status ValidateName(const ResourceType& type, absl::string_view name);

// "2024-05-01T10:00:00Z", the API's time format (UTC, whole seconds).
std::string ApiTime(absl::Time time);

// A resourceVersion query parameter: -1 for "" (most recent), else the number; BadRequest when
// it is not one.
absl::StatusOr<int64_t> ParseResourceVersion(absl::string_view text);

// Continue tokens carry the revision of the first page and the key to resume after, like the
// real server's (base64 of JSON).
std::string EncodeContinue(int64_t revision, const std::string& last_key);
absl::Status DecodeContinue(absl::string_view token, int64_t* revision, std::string* last_key);

}  // namespace weave::testing::kube
