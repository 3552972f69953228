#include <catch2/catch.hpp>

#include "npc/model/model.h"

namespace weave::npc {
namespace {

using Op = Requirement::Operator;

TEST_CASE("A selector without requirements matches everything", "[selector]") {
  LabelSelector everything;
  CHECK(everything.Matches({}));
  CHECK(everything.Matches({{"app", "web"}}));
}

TEST_CASE("Each operator follows Kubernetes semantics", "[selector]") {
  struct Case {
    Requirement requirement;
    Labels labels;
    bool matches;
  };
  const Case cases[] = {
      // In: present with one of the values.
      {{"app", Op::kIn, {"web"}}, {{"app", "web"}}, true},
      {{"app", Op::kIn, {"db", "web"}}, {{"app", "web"}}, true},
      {{"app", Op::kIn, {"web"}}, {{"app", "db"}}, false},
      {{"app", Op::kIn, {"web"}}, {}, false},
      {{"app", Op::kIn, {"web"}}, {{"tier", "web"}}, false},
      {{"app", Op::kIn, {""}}, {{"app", ""}}, true},
      {{"app", Op::kIn, {""}}, {}, false},
      // NotIn: absent, or present with none of the values.
      {{"app", Op::kNotIn, {"web"}}, {}, true},
      {{"app", Op::kNotIn, {"web"}}, {{"tier", "web"}}, true},
      {{"app", Op::kNotIn, {"web"}}, {{"app", "db"}}, true},
      {{"app", Op::kNotIn, {"web"}}, {{"app", "web"}}, false},
      {{"app", Op::kNotIn, {"db", "web"}}, {{"app", "web"}}, false},
      // Exists / DoesNotExist: only the key counts, whatever its value.
      {{"app", Op::kExists, {}}, {{"app", ""}}, true},
      {{"app", Op::kExists, {}}, {{"app", "web"}}, true},
      {{"app", Op::kExists, {}}, {{"App", "web"}}, false},
      {{"app", Op::kExists, {}}, {}, false},
      {{"app", Op::kDoesNotExist, {}}, {}, true},
      {{"app", Op::kDoesNotExist, {}}, {{"tier", "web"}}, true},
      {{"app", Op::kDoesNotExist, {}}, {{"app", ""}}, false},
  };
  for (const Case& c : cases) {
    LabelSelector selector{{c.requirement}};
    INFO("key " << c.requirement.key << " op " << static_cast<int>(c.requirement.op) << " labels "
                << c.labels.size());
    CHECK(selector.Matches(c.labels) == c.matches);
  }
}

TEST_CASE("All requirements must hold", "[selector]") {
  LabelSelector selector{{
      {"app", Op::kIn, {"web"}},
      {"tier", Op::kNotIn, {"test"}},
      {"canary", Op::kDoesNotExist, {}},
      {"team", Op::kExists, {}},
  }};
  CHECK(selector.Matches({{"app", "web"}, {"team", "a"}}));
  CHECK(selector.Matches({{"app", "web"}, {"team", "a"}, {"tier", "prod"}, {"other", "x"}}));
  CHECK_FALSE(selector.Matches({{"app", "web"}}));                                   // no team
  CHECK_FALSE(selector.Matches({{"app", "web"}, {"team", "a"}, {"tier", "test"}}));  // NotIn
  CHECK_FALSE(selector.Matches({{"app", "web"}, {"team", "a"}, {"canary", ""}}));    // exists
  CHECK_FALSE(selector.Matches({{"app", "db"}, {"team", "a"}}));                     // In
  CHECK_FALSE(selector.Matches({}));
}

TEST_CASE("Contradictory requirements match nothing", "[selector]") {
  LabelSelector selector{{{"app", Op::kExists, {}}, {"app", Op::kDoesNotExist, {}}}};
  CHECK_FALSE(selector.Matches({}));
  CHECK_FALSE(selector.Matches({{"app", "web"}}));
}

TEST_CASE("Matching is exact: case and whitespace count", "[selector]") {
  LabelSelector selector{{{"app", Op::kIn, {"web"}}}};
  CHECK_FALSE(selector.Matches({{"app", "Web"}}));
  CHECK_FALSE(selector.Matches({{"app", "web "}}));
  CHECK_FALSE(selector.Matches({{"app ", "web"}}));
}

}  // namespace
}  // namespace weave::npc
