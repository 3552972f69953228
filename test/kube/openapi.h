// The OpenAPI documents kubectl fetches before `apply` and `create -f`: with none, its default
// --validate=strict fails ("failed to download openapi"). These are minimal but real documents:
// v3 lists each served group-version and declares, for each type's PATCH, the fieldValidation
// query parameter (so kubectl leaves validation to the server instead of needing schemas); v2
// is an empty document (no definitions, so kubectl's client-side validation has nothing to check).
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace weave::testing::kube {

// GET /openapi/v3: {"paths":{"api/v1":{"serverRelativeURL":"/openapi/v3/api/v1?hash=..."},...}}.
nlohmann::json OpenApiV3Root();
// GET /openapi/v3/<group-version path> ("api/v1", "apis/networking.k8s.io/v1"); null if none.
nlohmann::json OpenApiV3Document(absl::string_view group_version_path);
// GET /openapi/v2 as JSON (for clients that ask for JSON; client-go asks for protobuf, for which
// the empty document is the empty byte string).
nlohmann::json OpenApiV2Json();

}  // namespace weave::testing::kube
