#include "common/kube/store.h"

#include <catch2/catch.hpp>

namespace weave::kube {
namespace {

Json Object(const std::string& name, const std::string& version, const std::string& ns = "") {
  Json metadata = {{"name", name}, {"resourceVersion", version}};
  if (!ns.empty()) metadata["namespace"] = ns;
  return {{"metadata", metadata}};
}

TEST_CASE("object accessors read what is there and never throw", "[kube]") {
  CHECK(*ObjectKey(Object("n1", "1")) == "n1");
  CHECK(*ObjectKey(Object("p", "1", "default")) == "default/p");
  for (const Json& bad : {Json(), Json(3), Json::array(), Json{{"metadata", 1}},
                          Json{{"metadata", {{"name", 5}}}}, Json{{"metadata", {{"name", ""}}}}}) {
    CHECK_FALSE(ObjectKey(bad).ok());
    CHECK(NameOf(bad).empty());
    CHECK(ResourceVersionOf(bad).empty());
  }
  CHECK(StringAt(Json{{"a", {{"b", "c"}}}}, {"a", "b"}) == "c");
  CHECK(StringAt(Json{{"a", {{"b", "c"}}}}, {"a", "b", "c"}).empty());
}

TEST_CASE("Replace reports what a full list changes", "[kube]") {
  Store store;
  int rejected = -1;
  auto first = store.Replace({Object("a", "1"), Object("b", "1"), Json{{"kind", "x"}}}, &rejected);
  CHECK(rejected == 1);
  REQUIRE(first.size() == 2);
  CHECK(first[0].kind == Change::Kind::kAdd);
  CHECK(NameOf(first[0].object) == "a");

  auto second = store.Replace({Object("b", "2"), Object("c", "1"), Object("a", "1")});
  // b changed, c is new, a is as it was.
  REQUIRE(second.size() == 2);
  CHECK(second[0].kind == Change::Kind::kUpdate);
  CHECK(ResourceVersionOf(second[0].old_object) == "1");
  CHECK(ResourceVersionOf(second[0].object) == "2");
  CHECK(second[1].kind == Change::Kind::kAdd);

  auto third = store.Replace({Object("c", "1")});
  REQUIRE(third.size() == 2);
  CHECK(third[0].kind == Change::Kind::kDelete);
  CHECK(NameOf(third[0].object) == "a");
  CHECK(third[1].kind == Change::Kind::kDelete);
  CHECK(store.size() == 1);
}

TEST_CASE("Apply keeps the store in step with watch events", "[kube]") {
  Store store;
  auto added = store.Apply({EventType::kAdded, Object("p", "1", "ns")});
  REQUIRE(added.ok());
  REQUIRE(added->has_value());
  CHECK((*added)->kind == Change::Kind::kAdd);
  CHECK(store.Get("ns/p").has_value());

  // MODIFIED of an unknown object is an addition; ADDED of a known one an update.
  CHECK((*store.Apply({EventType::kModified, Object("q", "2", "ns")}))->kind == Change::Kind::kAdd);
  auto again = store.Apply({EventType::kAdded, Object("p", "3", "ns")});
  CHECK((*again)->kind == Change::Kind::kUpdate);
  CHECK(ResourceVersionOf((*again)->old_object) == "1");

  auto deleted = store.Apply({EventType::kDeleted, Object("p", "4", "ns")});
  CHECK((*deleted)->kind == Change::Kind::kDelete);
  CHECK(ResourceVersionOf((*deleted)->object) == "4");
  CHECK_FALSE(store.Get("ns/p").has_value());
  // Deleting what is not there, and bookmarks, change nothing.
  CHECK_FALSE(store.Apply({EventType::kDeleted, Object("p", "5", "ns")})->has_value());
  CHECK_FALSE(store.Apply({EventType::kBookmark, Json{{"metadata", Json::object()}}})->has_value());
  CHECK(store.Apply({EventType::kAdded, Json{{"metadata", Json::object()}}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(store.List().size() == 1);
}

}  // namespace
}  // namespace weave::kube
