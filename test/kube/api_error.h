// Kubernetes API errors as absl::Status values, and their rendering as the metav1.Status objects
// that real clients parse ({"kind":"Status","status":"Failure","reason":"NotFound","code":404}).
//
// The store and the request handlers return these statuses; the server turns each into an HTTP
// answer in one place (StatusObject). The HTTP code and the Kubernetes reason travel as payloads,
// so nothing is lost between the absl code and the API's richer vocabulary.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "test/kube/resources.h"

namespace weave::testing::kube {

// An error with Kubernetes' HTTP `code` and `reason` ("Conflict"), mapped to the nearest absl code.
absl::Status ApiError(int code, absl::string_view reason, absl::string_view message);

absl::Status NotFoundError(const ResourceType& type, absl::string_view name);
absl::Status AlreadyExistsError(const ResourceType& type, absl::string_view name);
// A stale metadata.resourceVersion or a failed delete precondition.
absl::Status ConflictError(const ResourceType& type, absl::string_view name, absl::string_view why);
// 410 Gone, reason Expired: a resourceVersion or continue token older than the retained history.
absl::Status ExpiredError(absl::string_view message);
absl::Status BadRequestError(absl::string_view message);
// 422 Invalid: an object the API would reject (a bad name, a namespace mismatch).
absl::Status InvalidError(const ResourceType& type, absl::string_view name,
                          absl::string_view message);

// 403 Forbidden, reason Forbidden, as apierrors.NewForbidden: "<resource>[.<group>] [\"<name>\"]
// is forbidden: <why>", or "forbidden: <why>" when `resource` is "" (a non-resource path).
absl::Status ForbiddenError(absl::string_view group, absl::string_view resource,
                            absl::string_view name, absl::string_view why);

// The HTTP code of `status` (200 when OK).
int HttpCode(const absl::Status& status);
// The metav1.Status object for a failed `status`.
nlohmann::json StatusObject(const absl::Status& status);

}  // namespace weave::testing::kube
