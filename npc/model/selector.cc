#include <algorithm>

#include "npc/model/model.h"

namespace weave::npc {
namespace {

bool Contains(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

bool Satisfies(const Labels& labels, const Requirement& requirement) {
  auto label = labels.find(requirement.key);
  bool present = label != labels.end();
  switch (requirement.op) {
    case Requirement::Operator::kIn:
      return present && Contains(requirement.values, label->second);
    case Requirement::Operator::kNotIn:
      return !present || !Contains(requirement.values, label->second);
    case Requirement::Operator::kExists:
      return present;
    case Requirement::Operator::kDoesNotExist:
      return !present;
  }
  return false;  // not an Operator: selects nothing
}

}  // namespace

bool LabelSelector::Matches(const Labels& labels) const {
  return std::all_of(requirements.begin(), requirements.end(), [&](const Requirement& requirement) {
    return Satisfies(labels, requirement);
  });
}

}  // namespace weave::npc
