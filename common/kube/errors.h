// Kubernetes API errors as absl::Status. A failed request reads
//
//   listing nodes: https://10.0.0.1:443/api/v1/nodes: 403 Forbidden: <the Status object's message>
//
// on one line, whatever the server sent (HTML, garbage and control characters are cut and
// flattened). HTTP statuses map to codes as
//   400, 422 -> InvalidArgument   401 -> Unauthenticated   403 -> PermissionDenied
//   404 -> NotFound   409 -> Aborted (a conflict) or AlreadyExists (reason AlreadyExists)
//   410 -> OutOfRange (the resourceVersion is older than the server keeps)
//   429 -> ResourceExhausted   504 -> DeadlineExceeded   other 5xx -> Unavailable
// and the HTTP status travels with the Status (HttpStatusOf), so that callers test the helpers
// below rather than codes. Failures with no HTTP answer (connect, TLS, timeouts) come from the
// transport: Unavailable, DeadlineExceeded or Cancelled.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/kube/object.h"

namespace weave::kube {

// The Status for an HTTP answer `http_status` with `body` (a meta/v1 Status object, usually) to a
// request described by `context` ("listing nodes: https://...").
absl::Status ApiError(absl::string_view context, int http_status, absl::string_view body);

// The Status for the meta/v1 Status object carried by a watch ERROR event (code 410 or reason
// Expired/Gone is IsApiGone).
absl::Status WatchErrorEvent(absl::string_view context, const Json& status_object);

// The HTTP status an API error carries; 0 for other errors (and OK).
int HttpStatusOf(const absl::Status& status);

bool IsApiNotFound(const absl::Status& status);       // 404
bool IsApiConflict(const absl::Status& status);       // 409, not AlreadyExists
bool IsApiAlreadyExists(const absl::Status& status);  // 409 with reason AlreadyExists
bool IsApiGone(const absl::Status& status);           // 410: relist
bool IsApiUnauthorized(const absl::Status& status);   // 401

// "Forbidden" for 403, "" for codes without a well-known phrase.
absl::string_view ReasonPhrase(int http_status);

// `text` on one line, at most `max` bytes (whitespace runs become one space, other control
// characters are dropped, a cut is marked with "...").
std::string OneLine(absl::string_view text, size_t max = 300);

}  // namespace weave::kube
