#include "test/kube/object_meta.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "test/kube/api_error.h"

namespace weave::testing::kube {
namespace {

bool IsDnsLabel(absl::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (!absl::ascii_isalnum(label.front()) || !absl::ascii_isalnum(label.back())) return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return (absl::ascii_isalnum(c) && !absl::ascii_isupper(c)) || c == '-';
  });
}

}  // namespace

std::string PathSegmentNameProblem(absl::string_view name) {
  if (name == "." || name == "..") return absl::StrCat("may not be '", name, "'");
  if (absl::StrContains(name, '/')) return "may not contain '/'";
  if (absl::StrContains(name, '%')) return "may not contain '%'";
  return "";
}

std::string StringField(const nlohmann::json& object, const char* field) {
  if (!object.is_object()) return "";
  auto value = object.find(field);
  return value != object.end() && value->is_string() ? value->get<std::string>() : "";
}

std::string MetaString(const nlohmann::json& object, const char* field) {
  if (!object.is_object()) return "";
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return "";
  auto value = meta->find(field);
  if (value == meta->end() || !value->is_string()) return "";
  return value->get<std::string>();
}

absl::Status ValidateName(const ResourceType& type, absl::string_view name) {
  if (name.empty()) {
    return InvalidError(type, name,
                        "metadata.name: Required value: name or generateName is required");
  }
  if (type.path_segment_names) {
    const std::string problem = PathSegmentNameProblem(name);
    if (problem.empty()) return absl::OkStatus();
    return InvalidError(type, name,
                        absl::StrCat("metadata.name: Invalid value: \"", name, "\": ", problem));
  }
  bool ok = false;
  if (type.kind == "Namespace") {
    ok = IsDnsLabel(name);
  } else {
    std::vector<absl::string_view> labels = absl::StrSplit(name, '.');
    ok = name.size() <= 253 && std::all_of(labels.begin(), labels.end(), IsDnsLabel);
  }
  if (ok) return absl::OkStatus();
  return InvalidError(
      type, name,
      absl::StrCat("metadata.name: Invalid value: \"", name, "\": a lowercase RFC 1123 ",
                   type.kind == "Namespace" ? "label" : "subdomain",
                   " must consist of lower case alphanumeric characters, '-' or "
                   "'.', and must start and end with an alphanumeric character"));
}

std::string ApiTime(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone());
}

absl::StatusOr<int64_t> ParseResourceVersion(absl::string_view text) {
  if (text.empty()) return -1;
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value < 0) {
    return BadRequestError(absl::StrCat("invalid resource version: \"", text, "\""));
  }
  return value;
}

std::string EncodeContinue(int64_t revision, const std::string& last_key) {
  nlohmann::json token = {{"v", "meta.k8s.io/v1"}, {"rv", revision}, {"start", last_key}};
  return absl::WebSafeBase64Escape(token.dump());
}

absl::Status DecodeContinue(absl::string_view token, int64_t* revision, std::string* last_key) {
  std::string text;
  const absl::Status bad = BadRequestError("continue key is not valid");
  if (!absl::WebSafeBase64Unescape(token, &text)) return bad;
  nlohmann::json decoded = nlohmann::json::parse(text, nullptr, false);
  if (!decoded.is_object() || !decoded["rv"].is_number_integer() || !decoded["start"].is_string()) {
    return bad;
  }
  *revision = decoded["rv"].get<int64_t>();
  *last_key = decoded["start"].get<std::string>();
  return absl::OkStatus();
}

}  // namespace weave::testing::kube
