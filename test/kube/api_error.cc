#include "test/kube/api_error.h"

#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace weave::testing::kube {
namespace {

constexpr absl::string_view kCodePayload = "k8s.io/code";
constexpr absl::string_view kReasonPayload = "k8s.io/reason";
constexpr absl::string_view kDetailsPayload = "k8s.io/details";

absl::StatusCode AbslCode(int code) {
  switch (code) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 405:
    case 415:
      return absl::StatusCode::kUnimplemented;
    case 409:
      return absl::StatusCode::kAborted;
    case 410:
      return absl::StatusCode::kOutOfRange;
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    default:
      return absl::StatusCode::kInternal;
  }
}

std::optional<std::string> Payload(const absl::Status& status, absl::string_view key) {
  absl::optional<absl::Cord> cord = status.GetPayload(key);
  if (!cord) return std::nullopt;
  return std::string(*cord);
}

// Status.details as the real server fills it: each field only when set (omitempty).
nlohmann::json Details(absl::string_view group, absl::string_view resource,
                       absl::string_view name) {
  nlohmann::json details = nlohmann::json::object();
  if (!name.empty()) details["name"] = std::string(name);
  if (!group.empty()) details["group"] = std::string(group);
  if (!resource.empty()) details["kind"] = std::string(resource);
  return details;
}

absl::Status WithDetails(absl::Status status, const nlohmann::json& details) {
  status.SetPayload(kDetailsPayload, absl::Cord(details.dump()));
  return status;
}

// ApiError with Status.details naming the object.
absl::Status ObjectError(int code, absl::string_view reason, absl::string_view message,
                         const ResourceType& type, absl::string_view name) {
  return WithDetails(ApiError(code, reason, message), Details(type.group, type.plural, name));
}

}  // namespace

absl::Status ApiError(int code, absl::string_view reason, absl::string_view message) {
  absl::Status status(AbslCode(code), message);
  status.SetPayload(kCodePayload, absl::Cord(absl::StrCat(code)));
  status.SetPayload(kReasonPayload, absl::Cord(reason));
  return status;
}

absl::Status NotFoundError(const ResourceType& type, absl::string_view name) {
  return ObjectError(404, "NotFound",
                     absl::StrCat(type.QualifiedName(), " \"", name, "\" not found"), type, name);
}

absl::Status AlreadyExistsError(const ResourceType& type, absl::string_view name) {
  return ObjectError(409, "AlreadyExists",
                     absl::StrCat(type.QualifiedName(), " \"", name, "\" already exists"), type,
                     name);
}

absl::Status ConflictError(const ResourceType& type, absl::string_view name,
                           absl::string_view why) {
  return ObjectError(409, "Conflict",
                     absl::StrCat("Operation cannot be fulfilled on ", type.QualifiedName(), " \"",
                                  name, "\": ", why),
                     type, name);
}

absl::Status ExpiredError(absl::string_view message) { return ApiError(410, "Expired", message); }

absl::Status BadRequestError(absl::string_view message) {
  return ApiError(400, "BadRequest", message);
}

absl::Status InvalidError(const ResourceType& type, absl::string_view name,
                          absl::string_view message) {
  return ObjectError(422, "Invalid",
                     absl::StrCat(type.kind, " \"", name, "\" is invalid: ", message), type, name);
}

absl::Status ForbiddenError(absl::string_view group, absl::string_view resource,
                            absl::string_view name, absl::string_view why) {
  std::string message = absl::StrCat("forbidden: ", why);
  if (!resource.empty()) {
    const std::string qualified =
        group.empty() ? std::string(resource) : absl::StrCat(resource, ".", group);
    message = name.empty() ? absl::StrCat(qualified, " is forbidden: ", why)
                           : absl::StrCat(qualified, " \"", name, "\" is forbidden: ", why);
  }
  return WithDetails(ApiError(403, "Forbidden", message), Details(group, resource, name));
}

int HttpCode(const absl::Status& status) {
  if (status.ok()) return 200;
  int code = 0;
  if (std::optional<std::string> text = Payload(status, kCodePayload);
      text && absl::SimpleAtoi(*text, &code)) {
    return code;
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kOutOfRange:
      return 410;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    default:
      return 500;
  }
}

nlohmann::json StatusObject(const absl::Status& status) {
  const int code = HttpCode(status);
  std::string reason = Payload(status, kReasonPayload).value_or(code == 500 ? "InternalError" : "");
  nlohmann::json object = {{"kind", "Status"},
                           {"apiVersion", "v1"},
                           {"metadata", nlohmann::json::object()},
                           {"status", "Failure"},
                           {"message", std::string(status.message())},
                           {"code", code}};
  if (!reason.empty()) object["reason"] = reason;
  if (std::optional<std::string> details = Payload(status, kDetailsPayload)) {
    object["details"] = nlohmann::json::parse(*details);
  }
  return object;
}

}  // namespace weave::testing::kube
