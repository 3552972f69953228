#include "cni-plugin/errors.h"

#include <optional>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"

namespace weave::cni {
namespace {

constexpr char kCodePayload[] = "type.weave.works/cni.code";
constexpr char kDetailsPayload[] = "type.weave.works/cni.details";

std::string OneLine(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\r\n", " "}, {"\n", " "}, {"\r", " "}});
}

int CodeFromAbsl(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
      return kErrTryAgainLater;
    case absl::StatusCode::kNotFound:
      return kErrUnknownContainer;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return kErrInvalidConfig;
    default:
      return kErrInternal;
  }
}

std::optional<int> ExplicitCode(const absl::Status& status) {
  auto payload = status.GetPayload(kCodePayload);
  int code = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &code)) return std::nullopt;
  return code;
}

}  // namespace

absl::Status WithCniCode(absl::Status status, int code) {
  status.SetPayload(kCodePayload, absl::Cord(std::to_string(code)));
  return status;
}

absl::Status WithCniDetails(absl::Status status, absl::string_view details) {
  status.SetPayload(kDetailsPayload, absl::Cord(details));
  return status;
}

absl::Status Prefixed(absl::string_view prefix, const absl::Status& status) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(prefix, status.message()));
  status.ForEachPayload(
      [&out](absl::string_view type, const absl::Cord& payload) { out.SetPayload(type, payload); });
  return out;
}

absl::Status CniStatus(int code, absl::string_view msg, absl::StatusCode absl_code) {
  return WithCniCode(absl::Status(absl_code, msg), code);
}

CniError CniErrorFromStatus(const absl::Status& status) {
  CniError error;
  error.code = ExplicitCode(status).value_or(CodeFromAbsl(status.code()));
  error.msg = OneLine(status.message());
  if (error.msg.empty()) error.msg = absl::StatusCodeToString(status.code());
  if (auto details = status.GetPayload(kDetailsPayload)) {
    error.details = OneLine(std::string(*details));
  }
  return error;
}

std::string RenderError(const CniError& error, absl::string_view cni_version) {
  const nlohmann::json document = {{"cniVersion", std::string(cni_version)},
                                   {"code", error.code},
                                   {"msg", error.msg},
                                   {"details", error.details}};
  // Replace, not throw, on invalid UTF-8 that may come from a router or plugin message.
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace weave::cni
