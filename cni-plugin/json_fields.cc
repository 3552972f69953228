#include "cni-plugin/json_fields.h"

#include "absl/strings/str_cat.h"
#include "cni-plugin/errors.h"

namespace weave::cni::internal {
namespace {

using nlohmann::json;

// Null when absent or null; the value otherwise.
const json* Find(const json& object, absl::string_view key) {
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::Status WrongType(absl::string_view path, absl::string_view want) {
  return CniStatus(kErrInvalidConfig, absl::StrCat("field \"", path, "\" must be ", want));
}

}  // namespace

std::string FieldPath(absl::string_view path, absl::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
}

absl::Status MissingField(absl::string_view path) {
  return CniStatus(kErrInvalidConfig, absl::StrCat("field \"", path, "\" is missing"));
}

absl::StatusOr<std::optional<std::string>> GetString(const json& object, absl::string_view key,
                                                     absl::string_view path) {
  const json* value = Find(object, key);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->is_string()) return WrongType(FieldPath(path, key), "a string");
  return std::optional<std::string>(value->get_ref<const std::string&>());
}

absl::StatusOr<std::optional<bool>> GetBool(const json& object, absl::string_view key,
                                            absl::string_view path) {
  const json* value = Find(object, key);
  if (value == nullptr) return std::optional<bool>();
  if (!value->is_boolean()) return WrongType(FieldPath(path, key), "true or false");
  return std::optional<bool>(value->get<bool>());
}

absl::StatusOr<std::optional<uint64_t>> GetUnsigned(const json& object, absl::string_view key,
                                                    absl::string_view path, uint64_t max) {
  const json* value = Find(object, key);
  if (value == nullptr) return std::optional<uint64_t>();
  const std::string want = absl::StrCat("an integer from 0 to ", max);
  if (value->is_number_unsigned()) {
    const uint64_t number = value->get<uint64_t>();
    if (number <= max) return std::optional<uint64_t>(number);
  } else if (value->is_number_integer() && value->get<int64_t>() == 0) {
    return std::optional<uint64_t>(0);
  }
  return WrongType(FieldPath(path, key), want);
}

absl::StatusOr<const json*> GetObject(const json& object, absl::string_view key,
                                      absl::string_view path) {
  const json* value = Find(object, key);
  if (value != nullptr && !value->is_object()) return WrongType(FieldPath(path, key), "an object");
  return value;
}

absl::StatusOr<const json*> GetArray(const json& object, absl::string_view key,
                                     absl::string_view path) {
  const json* value = Find(object, key);
  if (value != nullptr && !value->is_array()) return WrongType(FieldPath(path, key), "an array");
  return value;
}

}  // namespace weave::cni::internal
