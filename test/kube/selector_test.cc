#include "test/kube/selector.h"

#include <catch2/catch.hpp>

#include "test/harness/status_assertions.h"
#include "test/kube/api_error.h"

namespace weave::testing::kube {
namespace {

using nlohmann::json;

const ResourceType& Pods() { return *FindResource("", "v1", "pods"); }

bool LabelsMatch(const std::string& selector, const json& labels) {
  absl::StatusOr<LabelSelector> parsed = LabelSelector::Parse(selector);
  REQUIRE_OK(parsed);
  return parsed->Matches(labels);
}

TEST_CASE("label selectors follow the apimachinery grammar", "[kube]") {
  const json labels = {{"app", "web"}, {"tier", "front"}};
  CHECK(LabelsMatch("", labels));
  CHECK(LabelsMatch("app=web", labels));
  CHECK(LabelsMatch("app==web,tier", labels));
  CHECK_FALSE(LabelsMatch("app!=web", labels));
  CHECK(LabelsMatch("app!=db", labels));
  CHECK(LabelsMatch("app!=db", json()));  // absent counts as "not equal"
  CHECK(LabelsMatch("tier in (back, front)", labels));
  CHECK_FALSE(LabelsMatch("tier notin (back,front)", labels));
  CHECK(LabelsMatch("!missing", labels));
  CHECK_FALSE(LabelsMatch("!app", labels));
  CHECK_FALSE(LabelsMatch("missing", labels));
  CHECK(LabelsMatch("example.com/role=x", {{"example.com/role", "x"}}));
}

TEST_CASE("a malformed label selector is a 400 BadRequest", "[kube]") {
  absl::StatusOr<LabelSelector> parsed = LabelSelector::Parse("app in web");
  REQUIRE_FALSE(parsed.ok());
  CHECK(HttpCode(parsed.status()) == 400);
  CHECK(StatusObject(parsed.status())["reason"] == "BadRequest");
}

TEST_CASE("field selectors match the indexed fields and reject others", "[kube]") {
  const json pod = {{"metadata", {{"name", "p1"}, {"namespace", "default"}}},
                    {"spec", {{"nodeName", "n1"}}},
                    {"status", {{"phase", "Running"}}}};
  absl::StatusOr<FieldSelector> by_node = FieldSelector::Parse("spec.nodeName=n1", Pods());
  REQUIRE_OK(by_node);
  CHECK(by_node->Matches(pod));
  absl::StatusOr<FieldSelector> other =
      FieldSelector::Parse("metadata.name==p1,status.phase!=Running", Pods());
  REQUIRE_OK(other);
  CHECK_FALSE(other->Matches(pod));
  absl::StatusOr<FieldSelector> unset = FieldSelector::Parse("status.podIP=", Pods());
  REQUIRE_OK(unset);
  CHECK(unset->Matches(pod));  // an absent field is ""

  absl::StatusOr<FieldSelector> unsupported = FieldSelector::Parse("spec.dnsPolicy=x", Pods());
  REQUIRE_FALSE(unsupported.ok());
  CHECK(unsupported.status().message() == "field label not supported: spec.dnsPolicy");
}

}  // namespace
}  // namespace weave::testing::kube
