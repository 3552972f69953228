#include "test/kube/selector.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "test/kube/api_error.h"

namespace weave::testing::kube {
namespace {

// Splits on commas outside parentheses: "a in (x,y),b" -> {"a in (x,y)", "b"}.
std::vector<absl::string_view> SplitTopLevel(absl::string_view text) {
  std::vector<absl::string_view> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '(') ++depth;
    if (text[i] == ')') --depth;
    if (text[i] == ',' && depth == 0) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(text.substr(start));
  return parts;
}

bool ValidLabelToken(absl::string_view token) {
  if (token.empty() || token.size() > 317) return false;
  return std::all_of(token.begin(), token.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/';
  });
}

absl::Status SelectorError(absl::string_view kind, absl::string_view text) {
  return BadRequestError(
      absl::StrCat("unable to parse requirement: invalid ", kind, " selector: \"", text, "\""));
}

// The value at a dotted path as text; "" when absent, as the API server's field sets have it.
std::string FieldValue(const nlohmann::json& object, absl::string_view path) {
  const nlohmann::json* node = &object;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (!node->is_object()) return "";
    auto it = node->find(std::string(part));
    if (it == node->end()) return "";
    node = &*it;
  }
  if (node->is_string()) return node->get<std::string>();
  if (node->is_null()) return "";
  return node->dump();
}

std::vector<std::string> SupportedFields(const ResourceType& type) {
  std::vector<std::string> fields = {"metadata.name"};
  if (type.namespaced) fields.push_back("metadata.namespace");
  if (type.kind == "Pod") {
    fields.insert(fields.end(), {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
                                 "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
                                 "status.podIP", "status.nominatedNodeName"});
  } else if (type.kind == "Node") {
    fields.push_back("spec.unschedulable");
  } else if (type.kind == "Namespace") {
    fields.push_back("status.phase");
  }
  return fields;
}

}  // namespace

absl::StatusOr<LabelSelector::Requirement> LabelSelector::ParseRequirement(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  Requirement requirement;
  if (absl::ConsumePrefix(&text, "!")) {
    requirement.key = std::string(absl::StripAsciiWhitespace(text));
    requirement.op = Op::kDoesNotExist;
    if (!ValidLabelToken(requirement.key)) return SelectorError("label", text);
    return requirement;
  }
  // Set-based: "key in (a,b)" / "key notin (a,b)".
  for (auto [word, op] : {std::pair{" notin ", Op::kNotIn}, std::pair{" in ", Op::kIn}}) {
    size_t at = text.find(word);
    if (at == absl::string_view::npos) continue;
    requirement.key = std::string(absl::StripAsciiWhitespace(text.substr(0, at)));
    requirement.op = op;
    absl::string_view set = absl::StripAsciiWhitespace(text.substr(at + strlen(word)));
    if (!absl::ConsumePrefix(&set, "(") || !absl::ConsumeSuffix(&set, ")")) {
      return SelectorError("label", text);
    }
    for (absl::string_view value : absl::StrSplit(set, ',')) {
      requirement.values.push_back(std::string(absl::StripAsciiWhitespace(value)));
    }
    if (!ValidLabelToken(requirement.key)) return SelectorError("label", text);
    return requirement;
  }
  for (auto [token, op] : {std::pair{"!=", Op::kNotEquals}, std::pair{"==", Op::kEquals},
                           std::pair{"=", Op::kEquals}}) {
    size_t at = text.find(token);
    if (at == absl::string_view::npos) continue;
    requirement.key = std::string(absl::StripAsciiWhitespace(text.substr(0, at)));
    requirement.op = op;
    requirement.values.push_back(
        std::string(absl::StripAsciiWhitespace(text.substr(at + strlen(token)))));
    if (!ValidLabelToken(requirement.key)) return SelectorError("label", text);
    return requirement;
  }
  requirement.key = std::string(text);
  requirement.op = Op::kExists;
  if (!ValidLabelToken(requirement.key)) return SelectorError("label", text);
  return requirement;
}

absl::StatusOr<LabelSelector> LabelSelector::Parse(absl::string_view text) {
  LabelSelector selector;
  if (absl::StripAsciiWhitespace(text).empty()) return selector;
  for (absl::string_view part : SplitTopLevel(text)) {
    absl::StatusOr<Requirement> requirement = ParseRequirement(part);
    if (!requirement.ok()) return requirement.status();
    selector.requirements_.push_back(*std::move(requirement));
  }
  return selector;
}

bool LabelSelector::Matches(const nlohmann::json& labels) const {
  for (const Requirement& r : requirements_) {
    const bool has = labels.is_object() && labels.contains(r.key) && labels[r.key].is_string();
    const std::string value = has ? labels[r.key].get<std::string>() : "";
    const bool in_values =
        has && std::find(r.values.begin(), r.values.end(), value) != r.values.end();
    bool ok = false;
    switch (r.op) {
      case Op::kEquals:
      case Op::kIn:
        ok = in_values;
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        ok = !in_values;
        break;
      case Op::kExists:
        ok = has;
        break;
      case Op::kDoesNotExist:
        ok = !has;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

absl::StatusOr<FieldSelector::Requirement> FieldSelector::ParseRequirement(absl::string_view part) {
  Requirement requirement;
  size_t at = part.find("!=");
  size_t value_at = at + 2;
  requirement.equals = at == absl::string_view::npos;
  if (requirement.equals) {
    at = part.find("==");
    value_at = at + 2;
    if (at == absl::string_view::npos) {
      at = part.find('=');
      value_at = at + 1;
    }
  }
  if (at == absl::string_view::npos) return SelectorError("field", part);
  requirement.path = std::string(absl::StripAsciiWhitespace(part.substr(0, at)));
  requirement.value = std::string(absl::StripAsciiWhitespace(part.substr(value_at)));
  return requirement;
}

absl::StatusOr<FieldSelector> FieldSelector::Parse(absl::string_view text,
                                                   const ResourceType& type) {
  FieldSelector selector;
  if (absl::StripAsciiWhitespace(text).empty()) return selector;
  const std::vector<std::string> supported = SupportedFields(type);
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    absl::StatusOr<Requirement> requirement = ParseRequirement(part);
    if (!requirement.ok()) return requirement.status();
    if (std::find(supported.begin(), supported.end(), requirement->path) == supported.end()) {
      return BadRequestError(absl::StrCat("field label not supported: ", requirement->path));
    }
    selector.requirements_.push_back(*std::move(requirement));
  }
  return selector;
}

std::optional<std::string> FieldSelector::RequiredValue(absl::string_view text,
                                                        absl::string_view field) {
  if (absl::StripAsciiWhitespace(text).empty()) return std::nullopt;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    absl::StatusOr<Requirement> requirement = ParseRequirement(part);
    if (!requirement.ok()) return std::nullopt;
    if (requirement->equals && requirement->path == field) return requirement->value;
  }
  return std::nullopt;
}

bool FieldSelector::Matches(const nlohmann::json& object) const {
  return std::all_of(requirements_.begin(), requirements_.end(), [&](const Requirement& r) {
    return (FieldValue(object, r.path) == r.value) == r.equals;
  });
}

}  // namespace weave::testing::kube
