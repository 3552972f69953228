#include "common/kube/errors.h"

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace weave::kube {

namespace {

constexpr absl::string_view kHttpStatusPayload = "type.weave.works/kube.http_status";

absl::StatusCode CodeFor(int http_status, absl::string_view reason) {
  switch (http_status) {
    case 400:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return reason == "AlreadyExists" ? absl::StatusCode::kAlreadyExists
                                       : absl::StatusCode::kAborted;
    case 410:
      return absl::StatusCode::kOutOfRange;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    default:
      return http_status >= 500 ? absl::StatusCode::kUnavailable : absl::StatusCode::kUnknown;
  }
}

absl::Status MakeError(absl::string_view context, int http_status, absl::string_view reason,
                       absl::string_view message) {
  std::string text = absl::StrCat(context, ": ", http_status);
  absl::string_view phrase = ReasonPhrase(http_status);
  if (!phrase.empty()) absl::StrAppend(&text, " ", phrase);
  std::string detail = OneLine(message);
  if (!detail.empty()) absl::StrAppend(&text, ": ", detail);
  absl::Status status(CodeFor(http_status, reason), text);
  status.SetPayload(kHttpStatusPayload, absl::Cord(absl::StrCat(http_status)));
  return status;
}

bool IsStatusObject(const Json& value) {
  return value.is_object() && value.value("kind", Json()) == "Status";
}

}  // namespace

absl::Status ApiError(absl::string_view context, int http_status, absl::string_view body) {
  absl::StatusOr<Json> parsed = ParseJson(body);
  if (parsed.ok() && IsStatusObject(*parsed)) {
    return MakeError(context, http_status, StringAt(*parsed, {"reason"}),
                     StringAt(*parsed, {"message"}));
  }
  return MakeError(context, http_status, "", body);
}

absl::Status WatchErrorEvent(absl::string_view context, const Json& status_object) {
  std::string reason = StringAt(status_object, {"reason"});
  int code = 0;
  if (status_object.is_object()) {
    auto it = status_object.find("code");
    if (it != status_object.end() && it->is_number_integer()) code = it->get<int>();
  }
  if (code == 0 && (reason == "Expired" || reason == "Gone")) code = 410;
  std::string message = StringAt(status_object, {"message"});
  if (code == 0) {
    return absl::UnavailableError(absl::StrCat(
        context, ": watch error: ", OneLine(message.empty() ? DumpJson(status_object) : message)));
  }
  return MakeError(absl::StrCat(context, ": watch error"), code, reason, message);
}

int HttpStatusOf(const absl::Status& status) {
  auto payload = status.GetPayload(kHttpStatusPayload);
  int code = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &code)) return 0;
  return code;
}

bool IsApiNotFound(const absl::Status& status) { return HttpStatusOf(status) == 404; }

bool IsApiConflict(const absl::Status& status) {
  return HttpStatusOf(status) == 409 && status.code() != absl::StatusCode::kAlreadyExists;
}

bool IsApiAlreadyExists(const absl::Status& status) {
  return HttpStatusOf(status) == 409 && status.code() == absl::StatusCode::kAlreadyExists;
}

bool IsApiGone(const absl::Status& status) { return HttpStatusOf(status) == 410; }

bool IsApiUnauthorized(const absl::Status& status) { return HttpStatusOf(status) == 401; }

absl::string_view ReasonPhrase(int http_status) {
  switch (http_status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

std::string OneLine(absl::string_view text, size_t max) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c))) continue;
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
    if (out.size() > max) {
      out.resize(max);
      // Not half a UTF-8 sequence: drop the trailing non-ASCII bytes.
      while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0x80) != 0) out.pop_back();
      out.append("...");
      break;
    }
  }
  return out;
}

}  // namespace weave::kube
