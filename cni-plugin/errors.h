// CNI errors: the spec's well-known codes, and the one place where an absl::Status becomes the
// error a runtime reads on stdout.
//
// Code inside the plugin returns absl::Status everywhere. A function that knows which CNI code
// applies (a missing variable is 4, bad JSON is 6) attaches it with WithCniCode; everything else
// (router errors, exec failures) is mapped from the status code by CniErrorFromStatus.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace weave::cni {

// Well-known error codes (CNI spec, "Error"), plus the plugin-specific catch-all.
inline constexpr int kErrIncompatibleVersion = 1;
inline constexpr int kErrUnsupportedField = 2;
inline constexpr int kErrUnknownContainer = 3;
inline constexpr int kErrInvalidEnvironment = 4;
inline constexpr int kErrIo = 5;
inline constexpr int kErrDecoding = 6;
inline constexpr int kErrInvalidConfig = 7;
inline constexpr int kErrTryAgainLater = 11;
inline constexpr int kErrPluginNotAvailable = 50;
inline constexpr int kErrLimitedConnectivity = 51;
inline constexpr int kErrInternal = 999;

// What the plugin prints on failure: {"cniVersion","code","msg","details"}.
struct CniError {
  int code = kErrInternal;
  std::string msg;      // one line
  std::string details;  // may be empty; e.g. the router's own message

  friend bool operator==(const CniError&, const CniError&) = default;
};

// Returns `status` (which must not be OK) tagged with a CNI error code that CniErrorFromStatus
// will use instead of mapping the status code.
absl::Status WithCniCode(absl::Status status, int code);

// Returns `status` (not OK) carrying `details`, printed in the error's "details" field while the
// message stays the one-line "msg".
absl::Status WithCniDetails(absl::Status status, absl::string_view details);

// `status` with its message prefixed by `prefix` (e.g. "ipam plugin host-local: "), keeping its
// code and CNI payloads.
absl::Status Prefixed(absl::string_view prefix, const absl::Status& status);

// Shorthand: a status of `absl_code` with message `msg` tagged with CNI `code`.
absl::Status CniStatus(int code, absl::string_view msg,
                       absl::StatusCode absl_code = absl::StatusCode::kInvalidArgument);

// The single mapping from a failed Status to a CNI error. An explicit WithCniCode wins; otherwise:
// UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, RESOURCE_EXHAUSTED -> 11 (try again later),
// NOT_FOUND -> 3, INVALID_ARGUMENT and OUT_OF_RANGE -> 7, anything else -> 999.
// The message is kept on one line. Precondition: !status.ok().
CniError CniErrorFromStatus(const absl::Status& status);

// The error as the JSON document printed on stdout, with "cniVersion" always present.
std::string RenderError(const CniError& error, absl::string_view cni_version);

}  // namespace weave::cni
