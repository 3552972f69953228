// PATCH bodies applied to a stored object, by Content-Type:
//   application/merge-patch+json           RFC 7386 JSON merge patch
//   application/strategic-merge-patch+json a merge patch: lists are replaced, not merged by key,
//                                          and "$patch"/"$setElementOrder/..." directives dropped
//   application/json-patch+json            RFC 6902 JSON patch
// Server-side apply (application/apply-patch+yaml) is not supported (415).
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace weave::testing::kube {

// The patched object, or BadRequest (bad JSON, a failing JSON patch operation) or an
// UnsupportedMediaType ApiError.
absl::StatusOr<nlohmann::json> ApplyPatch(const nlohmann::json& object,
                                          absl::string_view content_type, absl::string_view body);

}  // namespace weave::testing::kube
