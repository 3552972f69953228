#include "common/kube/object.h"

#include "absl/strings/str_cat.h"

namespace weave::kube {

namespace {

constexpr std::pair<EventType, absl::string_view> kEventTypeNames[] = {
    {EventType::kAdded, "ADDED"},     {EventType::kModified, "MODIFIED"},
    {EventType::kDeleted, "DELETED"}, {EventType::kBookmark, "BOOKMARK"},
    {EventType::kError, "ERROR"},
};

}  // namespace

std::optional<EventType> ParseEventType(absl::string_view text) {
  for (const auto& [type, name] : kEventTypeNames) {
    if (name == text) return type;
  }
  return std::nullopt;
}

absl::string_view EventTypeName(EventType type) {
  for (const auto& [t, name] : kEventTypeNames) {
    if (t == type) return name;
  }
  return "UNKNOWN";
}

std::string StringAt(const Json& object, std::initializer_list<const char*> path) {
  const Json* node = &object;
  for (const char* key : path) {
    if (!node->is_object()) return "";
    auto it = node->find(key);
    if (it == node->end()) return "";
    node = &*it;
  }
  return node->is_string() ? node->get<std::string>() : "";
}

std::string NameOf(const Json& object) { return StringAt(object, {"metadata", "name"}); }

std::string NamespaceOf(const Json& object) { return StringAt(object, {"metadata", "namespace"}); }

std::string ResourceVersionOf(const Json& object) {
  return StringAt(object, {"metadata", "resourceVersion"});
}

absl::StatusOr<std::string> ObjectKey(const Json& object) {
  std::string name = NameOf(object);
  if (name.empty()) return absl::InvalidArgumentError("object without metadata.name");
  std::string ns = NamespaceOf(object);
  return ns.empty() ? name : absl::StrCat(ns, "/", name);
}

absl::StatusOr<Json> ParseJson(absl::string_view text) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", e.what()));
  }
}

std::string DumpJson(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace weave::kube
