#include "test/kube/store.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "test/harness/status_assertions.h"
#include "test/kube/api_error.h"

namespace weave::testing::kube {
namespace {

using nlohmann::json;

const ResourceType& Type(const char* plural) {
  for (const ResourceType& r : Resources()) {
    if (r.plural == plural) return r;
  }
  FAIL("no type " << plural);
  throw;
}

std::unique_ptr<Store> NewStore(StoreOptions options = {}) {
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(std::move(options));
  REQUIRE_OK(store);
  return *std::move(store);
}

json ConfigMap(const std::string& name, json data = {{"k", "v"}}) {
  return {{"metadata", {{"name", name}}}, {"data", data}};
}

std::string Rv(const json& object) { return object["metadata"]["resourceVersion"]; }

int Code(const absl::Status& status) { return HttpCode(status); }

// Drains what a watcher has now.
std::vector<json> Drain(Watcher& watcher) { return watcher.Next(absl::ZeroDuration()).events; }

TEST_CASE("create fills metadata and rejects duplicates, bad names and missing namespaces",
          "[kube]") {
  auto store = NewStore();
  ASSIGN_OR_REQUIRE(json cm, store->Create(Type("configmaps"), "default", ConfigMap("c1")));
  CHECK(cm["kind"] == "ConfigMap");
  CHECK(cm["apiVersion"] == "v1");
  CHECK(cm["metadata"]["namespace"] == "default");
  CHECK(cm["metadata"]["uid"].get<std::string>().size() == 36);
  CHECK(!cm["metadata"]["creationTimestamp"].get<std::string>().empty());
  CHECK(Rv(cm) == absl::StrCat(store->resource_version()));

  CHECK(Code(store->Create(Type("configmaps"), "default", ConfigMap("c1")).status()) == 409);
  CHECK(Code(store->Create(Type("configmaps"), "nope", ConfigMap("c1")).status()) == 404);
  CHECK(Code(store->Create(Type("configmaps"), "default", ConfigMap("Bad_Name")).status()) == 422);
  json other_ns = ConfigMap("c2");
  other_ns["metadata"]["namespace"] = "kube-system";
  CHECK(Code(store->Create(Type("configmaps"), "default", other_ns).status()) == 400);
  json wrong_kind = ConfigMap("c3");
  wrong_kind["kind"] = "Pod";
  CHECK(Code(store->Create(Type("configmaps"), "default", wrong_kind).status()) == 400);

  json generated = {{"metadata", {{"generateName", "gen-"}}}};
  ASSIGN_OR_REQUIRE(json g, store->Create(Type("configmaps"), "default", generated));
  CHECK(g["metadata"]["name"].get<std::string>().rfind("gen-", 0) == 0);
}

TEST_CASE("updates check resourceVersion, keep status, and a no-op keeps the version", "[kube]") {
  auto store = NewStore();
  ASSIGN_OR_REQUIRE(
      json node,
      store->Put(
          {{"apiVersion", "v1"},
           {"kind", "Node"},
           {"metadata", {{"name", "n1"}}},
           {"status", {{"addresses", {{{"type", "InternalIP"}, {"address", "10.0.0.1"}}}}}}}));
  const std::string v1 = Rv(node);

  json stale = node;
  stale["metadata"]["labels"] = {{"a", "b"}};
  stale["status"] = {{"phase", "ignored"}};
  ASSIGN_OR_REQUIRE(json updated, store->Update(Type("nodes"), "", "n1", stale, false));
  CHECK(updated["metadata"]["labels"]["a"] == "b");
  CHECK(updated["status"] == node["status"]);  // the main resource cannot change status
  CHECK(Rv(updated) != v1);

  // The same write with the old version is a conflict.
  absl::Status conflict = store->Update(Type("nodes"), "", "n1", stale, false).status();
  CHECK(Code(conflict) == 409);
  CHECK(StatusObject(conflict)["reason"] == "Conflict");

  // An update that changes nothing writes nothing.
  ASSIGN_OR_REQUIRE(json same, store->Update(Type("nodes"), "", "n1", updated, false));
  CHECK(Rv(same) == Rv(updated));

  // The status subresource changes only the status.
  json status_write = updated;
  status_write["status"] = {{"conditions", json::array()}};
  status_write["metadata"]["labels"] = {{"a", "changed"}};
  ASSIGN_OR_REQUIRE(json status, store->Update(Type("nodes"), "", "n1", status_write, true));
  CHECK(status["status"] == status_write["status"]);
  CHECK(status["metadata"]["labels"]["a"] == "b");

  // Patches: merge, strategic (as merge), JSON patch; a stale version inside is a conflict.
  ASSIGN_OR_REQUIRE(
      json patched,
      store->Patch(Type("nodes"), "", "n1", "application/strategic-merge-patch+json",
                   R"({"metadata":{"labels":{"c":"d"}},"$setElementOrder/x":[]})", false));
  CHECK(patched["metadata"]["labels"] == json({{"a", "b"}, {"c", "d"}}));
  CHECK(Code(store
                 ->Patch(Type("nodes"), "", "n1", "application/merge-patch+json",
                         absl::StrCat(R"({"metadata":{"resourceVersion":")", v1, R"("}})"), false)
                 .status()) == 409);
  ASSIGN_OR_REQUIRE(json json_patched,
                    store->Patch(Type("nodes"), "", "n1", "application/json-patch+json",
                                 R"([{"op":"remove","path":"/metadata/labels/a"}])", false));
  CHECK(json_patched["metadata"]["labels"] == json({{"c", "d"}}));
  CHECK(Code(store->Patch(Type("nodes"), "", "n1", "application/apply-patch+yaml", "{}", false)
                 .status()) == 415);
  CHECK(Code(store->Patch(Type("nodes"), "", "nope", "application/merge-patch+json", "{}", false)
                 .status()) == 404);
}

TEST_CASE("a created pod starts Pending whatever status it was given", "[kube]") {
  auto store = NewStore();
  json pod = {{"metadata", {{"name", "p"}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", "i"}}}}}},
              {"status", {{"podIP", "10.32.0.5"}}}};
  ASSIGN_OR_REQUIRE(json created, store->Create(Type("pods"), "default", pod));
  CHECK(created["status"] == json({{"phase", "Pending"}}));
}

TEST_CASE("a watch from a resourceVersion sees the later events in order", "[kube]") {
  auto store = NewStore();
  ASSIGN_OR_REQUIRE(json c1, store->Create(Type("configmaps"), "default", ConfigMap("c1")));
  const std::string from = Rv(c1);
  REQUIRE_OK(store->Create(Type("configmaps"), "default", ConfigMap("c2")));
  REQUIRE_OK(store->Patch(Type("configmaps"), "default", "c1", "application/merge-patch+json",
                          R"({"data":{"k":"v2"}})", false));
  REQUIRE_OK(store->Delete(Type("configmaps"), "default", "c2", nullptr));
  REQUIRE_OK(store->Create(Type("configmaps"), "kube-system", ConfigMap("other-ns")));

  ASSIGN_OR_REQUIRE(auto watcher, store->Watch(Type("configmaps"), "default", {{}, {}, from}));
  std::vector<json> events = Drain(*watcher);
  REQUIRE(events.size() == 3);
  CHECK(events[0]["type"] == "ADDED");
  CHECK(events[0]["object"]["metadata"]["name"] == "c2");
  CHECK(events[1]["type"] == "MODIFIED");
  CHECK(events[1]["object"]["data"]["k"] == "v2");
  CHECK(events[2]["type"] == "DELETED");
  CHECK(std::stoll(Rv(events[2]["object"])) > std::stoll(Rv(events[1]["object"])));

  // Live events wake the watcher.
  REQUIRE_OK(store->Create(Type("configmaps"), "default", ConfigMap("c3")));
  Watcher::Batch live = watcher->Next(absl::Seconds(5));
  REQUIRE(live.events.size() == 1);
  CHECK(live.events[0]["object"]["metadata"]["name"] == "c3");
  CHECK(watcher->resource_version() == store->resource_version());

  store->CloseAllWatches();
  CHECK(watcher->Next(absl::Seconds(5)).closed);
}

TEST_CASE("a watch without a resourceVersion starts with the current objects", "[kube]") {
  auto store = NewStore();
  REQUIRE_OK(store->Create(Type("configmaps"), "default", ConfigMap("c1")));
  ASSIGN_OR_REQUIRE(auto watcher, store->Watch(Type("configmaps"), "", {}));
  std::vector<json> events = Drain(*watcher);
  REQUIRE(events.size() == 1);
  CHECK(events[0]["type"] == "ADDED");
}

TEST_CASE("a watch-list (sendInitialEvents) ends its initial events with a bookmark", "[kube]") {
  auto store = NewStore();
  REQUIRE_OK(store->Create(Type("configmaps"), "default", ConfigMap("c1")));
  WatchOptions options;
  options.send_initial_events = true;
  ASSIGN_OR_REQUIRE(auto watcher, store->Watch(Type("configmaps"), "", options));
  std::vector<json> events = Drain(*watcher);
  REQUIRE(events.size() == 2);
  CHECK(events[0]["type"] == "ADDED");
  CHECK(events[1]["type"] == "BOOKMARK");
  CHECK(events[1]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"] == "true");
  CHECK(Rv(events[1]["object"]) == absl::StrCat(store->resource_version()));
}

TEST_CASE("objects entering and leaving a watch's selector are ADDED and DELETED", "[kube]") {
  auto store = NewStore();
  ASSIGN_OR_REQUIRE(json c, store->Create(Type("configmaps"), "default", ConfigMap("c")));
  ASSIGN_OR_REQUIRE(LabelSelector selector, LabelSelector::Parse("app=web"));
  ASSIGN_OR_REQUIRE(auto watcher,
                    store->Watch(Type("configmaps"), "default", {selector, {}, Rv(c)}));
  for (const char* labels : {R"({"app":"web"})", R"({"app":"web","x":"y"})", R"({"app":"db"})"}) {
    REQUIRE_OK(store->Patch(Type("configmaps"), "default", "c", "application/merge-patch+json",
                            absl::StrCat(R"({"metadata":{"labels":)", labels, "}}"), false));
  }
  std::vector<json> events = Drain(*watcher);
  REQUIRE(events.size() == 3);
  CHECK(events[0]["type"] == "ADDED");
  CHECK(events[1]["type"] == "MODIFIED");
  CHECK(events[2]["type"] == "DELETED");
  CHECK(events[2]["object"]["metadata"]["labels"]["app"] == "web");  // the last state it matched
}

TEST_CASE("versions older than the retained history are 410 Expired", "[kube]") {
  StoreOptions options;
  options.history_limit = 3;
  auto store = NewStore(options);
  ASSIGN_OR_REQUIRE(json first, store->Create(Type("configmaps"), "default", ConfigMap("c0")));
  ASSIGN_OR_REQUIRE(auto slow, store->Watch(Type("configmaps"), "default", {{}, {}, Rv(first)}));
  for (int i = 1; i <= 4; ++i) {
    REQUIRE_OK(store->Create(Type("configmaps"), "default", ConfigMap(absl::StrCat("c", i))));
  }
  // A new watch from there is answered with an ERROR event (as the watch cache does).
  ASSIGN_OR_REQUIRE(auto late, store->Watch(Type("configmaps"), "default", {{}, {}, Rv(first)}));
  Watcher::Batch batch = late->Next(absl::ZeroDuration());
  REQUIRE(batch.events.size() == 1);
  CHECK(batch.events[0]["type"] == "ERROR");
  CHECK(batch.events[0]["object"]["code"] == 410);
  CHECK(batch.events[0]["object"]["reason"] == "Expired");
  CHECK(batch.closed);
  // An open watch that fell behind ends the same way.
  Watcher::Batch behind = slow->Next(absl::ZeroDuration());
  CHECK(behind.events.back()["type"] == "ERROR");
  CHECK(behind.closed);

  ListOptions exact;
  exact.resource_version = Rv(first);
  exact.resource_version_match = "Exact";
  CHECK(Code(store->List(Type("configmaps"), "default", exact).status()) == 410);
  ListOptions not_older;  // the real server answers from its current state
  not_older.resource_version = Rv(first);
  CHECK_OK(store->List(Type("configmaps"), "default", not_older));

  store->CompactHistory();
  ListOptions recent;
  recent.resource_version = absl::StrCat(store->resource_version() - 1);
  recent.resource_version_match = "Exact";
  CHECK(Code(store->List(Type("configmaps"), "default", recent).status()) == 410);
}

TEST_CASE("lists page with continue tokens over a consistent snapshot", "[kube]") {
  auto store = NewStore();
  for (int i = 0; i < 5; ++i) {
    REQUIRE_OK(store->Create(Type("configmaps"), "default", ConfigMap(absl::StrCat("c", i))));
  }
  ListOptions page;
  page.limit = 2;
  ASSIGN_OR_REQUIRE(json first, store->List(Type("configmaps"), "default", page));
  REQUIRE(first["items"].size() == 2);
  CHECK(first["metadata"]["remainingItemCount"] == 3);
  CHECK_FALSE(first["items"][0].contains("kind"));
  // Changes after the first page do not show in the later pages.
  REQUIRE_OK(store->Delete(Type("configmaps"), "default", "c3", nullptr));
  REQUIRE_OK(store->Create(Type("configmaps"), "default", ConfigMap("c9")));
  page.continue_token = first["metadata"]["continue"];
  page.limit = 10;
  ASSIGN_OR_REQUIRE(json rest, store->List(Type("configmaps"), "default", page));
  std::vector<std::string> names;
  for (const json& item : rest["items"]) names.push_back(item["metadata"]["name"]);
  CHECK(names == std::vector<std::string>{"c2", "c3", "c4"});
  CHECK(rest["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]);
  CHECK_FALSE(rest["metadata"].contains("continue"));

  ListOptions too_new;
  too_new.resource_version = absl::StrCat(store->resource_version() + 10);
  CHECK(Code(store->List(Type("configmaps"), "default", too_new).status()) == 504);
}

TEST_CASE("deleting a namespace deletes what is in it, and preconditions are checked", "[kube]") {
  auto store = NewStore();
  REQUIRE_OK(store->Create(Type("namespaces"), "", {{"metadata", {{"name", "ns1"}}}}));
  ASSIGN_OR_REQUIRE(json cm, store->Create(Type("configmaps"), "ns1", ConfigMap("c")));
  CHECK(Code(store
                 ->Delete(Type("configmaps"), "ns1", "c",
                          {{"preconditions", {{"uid", "not-the-uid"}}}})
                 .status()) == 409);
  REQUIRE_OK(store->Delete(Type("namespaces"), "", "ns1", nullptr));
  CHECK(Code(store->Get(Type("configmaps"), "ns1", "c").status()) == 404);
  CHECK(Code(store->Delete(Type("namespaces"), "", "ns1", nullptr).status()) == 404);
}

TEST_CASE("the state file keeps objects and the version counter across a reopen", "[kube]") {
  const std::string path = absl::StrCat(std::filesystem::temp_directory_path().string(),
                                        "/fake-apiserver-state-", getpid(), ".json");
  std::filesystem::remove(path);
  StoreOptions options;
  options.state_file = path;
  int64_t version = 0;
  std::string from;
  {
    auto store = NewStore(options);
    ASSIGN_OR_REQUIRE(json cm, store->Create(Type("configmaps"), "default", ConfigMap("c")));
    from = Rv(cm);
    REQUIRE_OK(store->Create(Type("configmaps"), "default", ConfigMap("d")));
    version = store->resource_version();
  }
  auto reopened = NewStore(options);
  CHECK(reopened->resource_version() == version);
  ASSIGN_OR_REQUIRE(json cm, reopened->Get(Type("configmaps"), "default", "c"));
  CHECK(Rv(cm) == from);
  ASSIGN_OR_REQUIRE(json next, reopened->Create(Type("configmaps"), "default", ConfigMap("e")));
  CHECK(std::stoll(Rv(next)) == version + 1);
  // The history did not survive: a watch from before is expired.
  ASSIGN_OR_REQUIRE(auto watcher, reopened->Watch(Type("configmaps"), "", {{}, {}, from}));
  CHECK(watcher->Next(absl::ZeroDuration()).events.at(0)["type"] == "ERROR");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace weave::testing::kube
