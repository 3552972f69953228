// Label and field selectors, parsed from the query parameters of LIST and WATCH requests with the
// grammar of k8s.io/apimachinery: labels "a=b,c!=d,e in (f,g),h notin (i),j,!k" and fields
// "metadata.name=x,spec.nodeName!=y". Pure values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "test/kube/resources.h"

namespace weave::testing::kube {

class LabelSelector {
 public:
  // An empty text selects everything. A malformed one is a BadRequest ApiError.
  static absl::StatusOr<LabelSelector> Parse(absl::string_view text);
  // Whether an object with these metadata.labels (an object, or null) is selected.
  bool Matches(const nlohmann::json& labels) const;
  bool empty() const { return requirements_.empty(); }

 private:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;
  };
  static absl::StatusOr<Requirement> ParseRequirement(absl::string_view text);
  std::vector<Requirement> requirements_;
};

class FieldSelector {
 public:
  // Only the fields the real API server indexes for `type` may be used (metadata.name and
  // metadata.namespace everywhere; spec.nodeName, status.phase, status.podIP... for pods); others
  // are a BadRequest "field label not supported", as there.
  static absl::StatusOr<FieldSelector> Parse(absl::string_view text, const ResourceType& type);
  bool Matches(const nlohmann::json& object) const;
  bool empty() const { return requirements_.empty(); }
  // The value `field` must equal for `text` to select anything ("x" of "metadata.name=x,..."),
  // as fields.Selector.RequiresExactMatch: nullopt when no term requires one or `text` does not
  // parse. Any field name is accepted (the type's supported fields are not checked).
  static std::optional<std::string> RequiredValue(absl::string_view text, absl::string_view field);

 private:
  struct Requirement {
    std::string path;  // "spec.nodeName"
    bool equals;
    std::string value;
  };
  static absl::StatusOr<Requirement> ParseRequirement(absl::string_view part);
  std::vector<Requirement> requirements_;
};

}  // namespace weave::testing::kube
