#include "test/kube/patch.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "test/kube/api_error.h"

namespace weave::testing::kube {
namespace {

// Strategic merge patch directives ("$patch", "$retainKeys", "$setElementOrder/containers",
// "$deleteFromPrimitiveList/...") have no meaning in a merge patch.
void DropDirectives(nlohmann::json& patch) {
  if (!patch.is_object()) return;
  for (auto it = patch.begin(); it != patch.end();) {
    if (absl::StartsWith(it.key(), "$")) {
      it = patch.erase(it);
    } else {
      DropDirectives(*it);
      ++it;
    }
  }
}

}  // namespace

absl::StatusOr<nlohmann::json> ApplyPatch(const nlohmann::json& object,
                                          absl::string_view content_type, absl::string_view body) {
  absl::string_view media_type = absl::StripAsciiWhitespace(
      std::vector<absl::string_view>(absl::StrSplit(content_type, ';')).front());
  nlohmann::json patch = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (patch.is_discarded()) return BadRequestError("the patch body is not valid JSON");
  nlohmann::json result = object;
  if (media_type == "application/merge-patch+json" ||
      media_type == "application/strategic-merge-patch+json") {
    if (!patch.is_object()) return BadRequestError("a merge patch must be a JSON object");
    if (media_type == "application/strategic-merge-patch+json") DropDirectives(patch);
    result.merge_patch(patch);
    return result;
  }
  if (media_type == "application/json-patch+json") {
    if (!patch.is_array()) return BadRequestError("a JSON patch must be a JSON array");
    try {
      return object.patch(patch);
    } catch (const nlohmann::json::exception& e) {
      return ApiError(422, "Invalid", absl::StrCat("the JSON patch cannot be applied: ", e.what()));
    }
  }
  return ApiError(415, "UnsupportedMediaType",
                  absl::StrCat("the body of the request was in an unknown format - accepted media "
                               "types include: application/json-patch+json, "
                               "application/merge-patch+json, "
                               "application/strategic-merge-patch+json (got \"",
                               content_type, "\")"));
}

}  // namespace weave::testing::kube
