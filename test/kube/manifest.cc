#include "test/kube/manifest.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "test/kube/object_meta.h"

namespace weave::testing::kube {

using nlohmann::json;

namespace {

// A plain (unquoted, untagged) scalar as the YAML 1.2 core schema resolves it.
json PlainScalar(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  int64_t integer = 0;
  if (absl::SimpleAtoi(text, &integer)) return integer;
  double number = 0;
  const bool numeric = absl::ascii_isdigit(text.back()) &&
                       (absl::ascii_isdigit(text.front()) || text.front() == '-' ||
                        text.front() == '+' || text.front() == '.');
  if (numeric && absl::SimpleAtod(text, &number)) return number;
  return text;
}

json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      // "?" is yaml-cpp's tag for a plain scalar; quoted ones are "!", explicit ones "!!str"...
      return node.Tag() == "?" ? PlainScalar(node.Scalar()) : json(node.Scalar());
    case YAML::NodeType::Sequence: {
      json array = json::array();
      for (const YAML::Node& item : node) array.push_back(ToJson(item));
      return array;
    }
    case YAML::NodeType::Map: {
      json object = json::object();
      for (const auto& entry : node) object[entry.first.as<std::string>()] = ToJson(entry.second);
      return object;
    }
  }
  return nullptr;
}

// Appends a document's objects: itself, or a List's or an array's items (as Store::Seed reads).
absl::Status AddDocument(const json& document, std::vector<json>& objects) {
  if (document.is_null()) return absl::OkStatus();
  const bool list =
      document.is_object() && document.contains("items") && document["items"].is_array();
  const json items = document.is_array() ? document
                     : list              ? document["items"]
                                         : json::array({document});
  for (const json& object : items) {
    if (!object.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("a manifest holds objects, not ", object.dump()));
    }
    objects.push_back(object);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<json>> ParseManifest(absl::string_view text) {
  std::vector<json> objects;
  json parsed = json::parse(text.begin(), text.end(), nullptr, false);
  if (!parsed.is_discarded()) {
    if (absl::Status s = AddDocument(parsed, objects); !s.ok()) return s;
    return objects;
  }
  try {
    for (const YAML::Node& document : YAML::LoadAll(std::string(text))) {
      if (absl::Status s = AddDocument(ToJson(document), objects); !s.ok()) return s;
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("neither JSON nor YAML: ", e.what()));
  }
  return objects;
}

absl::StatusOr<std::vector<json>> ReadManifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<std::vector<json>> objects = ParseManifest(text.str());
  if (!objects.ok()) {
    return absl::Status(objects.status().code(),
                        absl::StrCat(path, ": ", objects.status().message()));
  }
  return objects;
}

bool IsRbacObject(const json& object) {
  const std::string api_version = StringField(object, "apiVersion");
  const std::string kind = StringField(object, "kind");
  if (api_version == "v1") return kind == "ServiceAccount";
  return api_version == "rbac.authorization.k8s.io/v1" &&
         (kind == "ClusterRole" || kind == "ClusterRoleBinding" || kind == "Role" ||
          kind == "RoleBinding");
}

}  // namespace weave::testing::kube
