// The fake API server over HTTPS, seen with a plain client: what goes over the wire.
#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "test/harness/status_assertions.h"
#include "test/harness/wait_for.h"
#include "test/kube/server_fixture.h"

namespace weave::testing::kube {
namespace {

using nlohmann::json;

using Fixture = ServerFixture;

std::string Rv(const json& object) { return object["metadata"]["resourceVersion"]; }

std::vector<std::string> Names(const json& list) {
  std::vector<std::string> names;
  for (const json& item : list["items"]) names.push_back(item["metadata"]["name"]);
  return names;
}

TEST_CASE("requests need the bearer token and clients need the CA", "[kube]") {
  Fixture f;
  for (const std::string& token : {std::string(), std::string("wrong")}) {
    ApiAnswer answer = f.NewClient(token)->Get("/api/v1/nodes");
    CHECK(answer.code == 401);
    CHECK(answer.body["kind"] == "Status");
    CHECK(answer.body["reason"] == "Unauthorized");
  }
  CHECK(f.client->Get("/api/v1/nodes").code == 200);

  ApiTestClient untrusting(f.server->url(), "/etc/ssl/certs/ca-certificates.crt",
                           f.server->token());
  CHECK(untrusting.Get("/api/v1/nodes").code == 0);  // the TLS handshake fails
}

TEST_CASE("discovery documents describe the served types", "[kube]") {
  Fixture f;
  ApiAnswer api = f.client->Get("/api");
  CHECK(api.body["versions"] == json({"v1"}));
  ApiAnswer core = f.client->Get("/api/v1");
  REQUIRE(core.code == 200);
  std::vector<std::string> names;
  for (const json& r : core.body["resources"]) names.push_back(r["name"]);
  CHECK(names == std::vector<std::string>{"namespaces", "namespaces/status", "nodes",
                                          "nodes/status", "pods", "pods/status", "configmaps",
                                          "serviceaccounts"});
  ApiAnswer groups = f.client->Get("/apis");
  CHECK(groups.body["groups"][0]["name"] == "networking.k8s.io");
  ApiAnswer networking = f.client->Get("/apis/networking.k8s.io/v1");
  CHECK(networking.body["resources"][0]["kind"] == "NetworkPolicy");
  CHECK(networking.body["resources"][0]["namespaced"] == true);
  CHECK(groups.body["groups"][1]["name"] == "rbac.authorization.k8s.io");
  ApiAnswer rbac = f.client->Get("/apis/rbac.authorization.k8s.io/v1");
  REQUIRE(rbac.code == 200);
  names.clear();
  for (const json& r : rbac.body["resources"]) names.push_back(r["name"]);
  CHECK(names ==
        std::vector<std::string>{"clusterroles", "clusterrolebindings", "roles", "rolebindings"});
  CHECK(f.client->Get("/version").body["major"] == "1");
  CHECK(f.client->Get("/apis/apps/v1").code == 404);
}

TEST_CASE("create, get, update, patch and delete answer like the real server", "[kube]") {
  Fixture f;
  ApiAnswer created = f.CreateConfigMap("c1");
  REQUIRE(created.code == 201);
  CHECK(created.body["metadata"]["namespace"] == "default");

  ApiAnswer again = f.CreateConfigMap("c1");
  CHECK(again.code == 409);
  CHECK(again.body["reason"] == "AlreadyExists");
  CHECK(again.body["details"]["name"] == "c1");

  json update = created.body;
  update["data"]["k"] = "v2";
  ApiAnswer updated = f.client->Put("/api/v1/namespaces/default/configmaps/c1", update);
  REQUIRE(updated.code == 200);
  CHECK(std::stoll(Rv(updated.body)) > std::stoll(Rv(created.body)));
  ApiAnswer stale = f.client->Put("/api/v1/namespaces/default/configmaps/c1", update);
  CHECK(stale.code == 409);
  CHECK(stale.body["reason"] == "Conflict");

  // Nodes and their status subresource.
  ApiAnswer node = f.client->Post("/api/v1/nodes", {{"metadata", {{"name", "n1"}}}});
  REQUIRE(node.code == 201);
  ApiAnswer status = f.client->Patch(
      "/api/v1/nodes/n1/status",
      {{"status", {{"addresses", {{{"type", "InternalIP"}, {"address", "10.0.0.1"}}}}}}},
      "application/strategic-merge-patch+json");
  REQUIRE(status.code == 200);
  CHECK(f.client->Get("/api/v1/nodes/n1").body["status"]["addresses"][0]["address"] == "10.0.0.1");

  ApiAnswer deleted = f.client->Delete("/api/v1/namespaces/default/configmaps/c1");
  CHECK(deleted.code == 200);
  CHECK(deleted.body["status"] == "Success");
  ApiAnswer gone = f.client->Get("/api/v1/namespaces/default/configmaps/c1");
  CHECK(gone.code == 404);
  CHECK(gone.body["reason"] == "NotFound");
  CHECK(gone.body["message"] == "configmaps \"c1\" not found");
  CHECK(f.client->Delete("/api/v1/namespaces/default/configmaps/c1").code == 404);

  ApiAnswer policy =
      f.client->Post("/apis/networking.k8s.io/v1/namespaces/default/networkpolicies",
                     {{"apiVersion", "networking.k8s.io/v1"},
                      {"kind", "NetworkPolicy"},
                      {"metadata", {{"name", "deny"}}},
                      {"spec", {{"podSelector", json::object()}, {"policyTypes", {"Ingress"}}}}});
  CHECK(policy.code == 201);
  CHECK(
      f.client->Post("/api/v1/namespaces/nope/configmaps", {{"metadata", {{"name", "x"}}}}).code ==
      404);
  CHECK(f.client->Post("/api/v1/namespaces/default/configmaps", json::array()).code == 400);
}

TEST_CASE("lists carry a resourceVersion and honour selectors, limit and continue", "[kube]") {
  Fixture f;
  for (const char* name : {"a", "b", "c"}) REQUIRE(f.CreateConfigMap(name).code == 201);
  REQUIRE(f.CreateConfigMap("d", "kube-system").code == 201);

  ApiAnswer all = f.client->Get("/api/v1/configmaps");
  CHECK(all.body["kind"] == "ConfigMapList");
  CHECK(all.body["metadata"]["resourceVersion"] ==
        absl::StrCat(f.server->store().resource_version()));
  CHECK(Names(all.body) == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(Names(f.client->Get("/api/v1/namespaces/default/configmaps?labelSelector=app%20in%20(a,c)")
                  .body) == std::vector<std::string>{"a", "c"});
  CHECK(Names(f.client->Get("/api/v1/configmaps?fieldSelector=metadata.name%3Db").body) ==
        std::vector<std::string>{"b"});
  CHECK(f.client->Get("/api/v1/configmaps?fieldSelector=data.k%3Dv").code == 400);

  ApiAnswer page = f.client->Get("/api/v1/configmaps?limit=3");
  CHECK(Names(page.body) == std::vector<std::string>{"a", "b", "c"});
  const std::string token = page.body["metadata"]["continue"];
  ApiAnswer next = f.client->Get("/api/v1/configmaps?limit=3&continue=" + token);
  CHECK(Names(next.body) == std::vector<std::string>{"d"});
}

TEST_CASE("a watch from a resourceVersion streams the later events in order", "[kube]") {
  Fixture f;
  ApiAnswer a = f.CreateConfigMap("a");
  REQUIRE(f.CreateConfigMap("b").code == 201);
  auto watch =
      f.Watch("/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=" + Rv(a.body));
  REQUIRE_OK(watch->WaitForEvents(1, absl::Seconds(10)));
  REQUIRE(f.client->Delete("/api/v1/namespaces/default/configmaps/a").code == 200);
  REQUIRE(f.CreateConfigMap("other", "kube-system").code == 201);  // not in this namespace
  REQUIRE(
      f.client->Patch("/api/v1/namespaces/default/configmaps/b", {{"data", {{"k", "v2"}}}}).code ==
      200);
  REQUIRE_OK(watch->WaitForEvents(3, absl::Seconds(10)));
  std::vector<json> events = watch->Events();
  REQUIRE(events.size() == 3);
  CHECK(events[0]["type"] == "ADDED");
  CHECK(events[0]["object"]["metadata"]["name"] == "b");
  CHECK(events[1]["type"] == "DELETED");
  CHECK(events[1]["object"]["metadata"]["name"] == "a");
  CHECK(events[2]["type"] == "MODIFIED");
  CHECK(events[2]["object"]["data"]["k"] == "v2");
  CHECK(watch->code() == 200);
  CHECK_FALSE(watch->Ended());
}

TEST_CASE("watches send bookmarks when allowed and end after timeoutSeconds", "[kube]") {
  FakeApiServerOptions options;
  options.bookmark_interval = absl::Milliseconds(200);
  Fixture f(options);
  auto watch =
      f.Watch(absl::StrCat("/api/v1/pods?watch=true&allowWatchBookmarks=true&"
                           "timeoutSeconds=2&resourceVersion=",
                           f.server->store().resource_version()));
  REQUIRE_OK(watch->WaitForEvents(2, absl::Seconds(10)));
  json bookmark = watch->Events()[0];
  CHECK(bookmark["type"] == "BOOKMARK");
  CHECK(bookmark["object"]["kind"] == "Pod");
  CHECK(Rv(bookmark["object"]) == absl::StrCat(f.server->store().resource_version()));
  // A change elsewhere moves the bookmark's version on.
  REQUIRE(f.CreateConfigMap("x").code == 201);
  const std::string after = absl::StrCat(f.server->store().resource_version());
  REQUIRE_OK(WaitFor([&] { return Rv(watch->Events().back()["object"]) == after; },
                     absl::Seconds(10), "a bookmark at the new version"));
  const absl::Time start = absl::Now();
  REQUIRE_OK(watch->WaitForEnd(absl::Seconds(10)));
  CHECK(absl::Now() - start < absl::Seconds(3));

  // Without allowWatchBookmarks there are none.
  auto quiet = f.Watch(absl::StrCat("/api/v1/pods?watch=1&timeoutSeconds=1&resourceVersion=",
                                    f.server->store().resource_version()));
  REQUIRE_OK(quiet->WaitForEnd(absl::Seconds(10)));
  CHECK(quiet->Events().empty());
}

TEST_CASE("a watch or exact list older than the history is 410 Expired", "[kube]") {
  FakeApiServerOptions options;
  options.store.history_limit = 2;
  Fixture f(options);
  ApiAnswer first = f.CreateConfigMap("a");
  for (const char* name : {"b", "c", "d"}) REQUIRE(f.CreateConfigMap(name).code == 201);

  auto watch = f.Watch("/api/v1/configmaps?watch=1&resourceVersion=" + Rv(first.body));
  REQUIRE_OK(watch->WaitForEnd(absl::Seconds(10)));
  REQUIRE(watch->Events().size() == 1);
  const json error = watch->Events()[0];
  CHECK(error["type"] == "ERROR");
  CHECK(error["object"]["kind"] == "Status");
  CHECK(error["object"]["code"] == 410);
  CHECK(error["object"]["reason"] == "Expired");

  ApiAnswer list = f.client->Get("/api/v1/configmaps?resourceVersionMatch=Exact&resourceVersion=" +
                                 Rv(first.body));
  CHECK(list.code == 410);
  CHECK(list.body["reason"] == "Expired");
}

TEST_CASE("a restarted server keeps its objects, its port and rising versions", "[kube]") {
  Fixture f;
  ApiAnswer a = f.CreateConfigMap("a");
  REQUIRE(f.CreateConfigMap("a2").code == 201);
  auto watch = f.Watch("/api/v1/configmaps?watch=1&resourceVersion=" + Rv(a.body));
  REQUIRE_OK(watch->WaitForEvents(1, absl::Seconds(10)));
  const int port = f.server->port();

  const absl::Time start = absl::Now();
  f.server->Stop();
  CHECK(absl::Now() - start < absl::Seconds(4));  // watches end at once, idle connections soon
  REQUIRE_OK(watch->WaitForEnd(absl::Seconds(5)));
  CHECK(f.client->Get("/api/v1/configmaps").code == 0);

  REQUIRE_OK(f.server->Start());
  CHECK(f.server->port() == port);
  CHECK(Names(f.client->Get("/api/v1/configmaps").body) == std::vector<std::string>{"a", "a2"});
  ApiAnswer b = f.CreateConfigMap("b");
  CHECK(std::stoll(Rv(b.body)) > std::stoll(Rv(a.body)));
  // Like a restarted kube-apiserver, the history is gone: watches from before must relist.
  auto old = f.Watch("/api/v1/configmaps?watch=1&resourceVersion=" + Rv(a.body));
  REQUIRE_OK(old->WaitForEvents(1, absl::Seconds(10)));
  CHECK(old->Events()[0]["object"]["code"] == 410);
}

TEST_CASE("injected faults answer the next matching requests", "[kube]") {
  Fixture f;
  f.server->faults().Add({FaultKind::kForbidden, 2, "/api/v1/nodes"});
  CHECK(f.client->Get("/api/v1/pods").code == 200);  // does not match
  ApiAnswer forbidden = f.client->Get("/api/v1/nodes");
  CHECK(forbidden.code == 403);
  CHECK(forbidden.body["reason"] == "Forbidden");
  CHECK(f.client->Get("/api/v1/nodes?watch=1&timeoutSeconds=1").code == 403);
  CHECK(f.client->Get("/api/v1/nodes").code == 200);  // used up

  f.server->faults().Add({FaultKind::kGone, 1, ""});
  ApiAnswer gone = f.client->Get("/api/v1/pods");
  CHECK(gone.code == 410);
  CHECK(gone.body["reason"] == "Expired");
  f.server->faults().Add({FaultKind::kInternalError, 1, ""});
  CHECK(f.client->Get("/api/v1/pods").code == 500);
  f.server->faults().Add({FaultKind::kInvalidJson, 1, ""});
  ApiAnswer garbage = f.client->Get("/api/v1/pods");
  CHECK(garbage.code == 200);
  CHECK(garbage.body.is_discarded());
  f.server->faults().Add({FaultKind::kTruncated, 1, ""});
  CHECK(f.client->Get("/api/v1/pods").code == 0);  // the connection dropped mid-body
  CHECK(f.client->Get("/api/v1/pods").code == 200);

  // Watches only: a truncated event stream, then a garbage line.
  f.server->faults().Add({FaultKind::kTruncated, 1, "", /*watches_only=*/true});
  CHECK(f.client->Get("/api/v1/pods").code == 200);
  auto truncated = f.Watch("/api/v1/pods?watch=1");
  REQUIRE_OK(truncated->WaitForEnd(absl::Seconds(10)));
  CHECK(truncated->Events().empty());
  f.server->faults().Add({FaultKind::kInvalidJson, 1, "/api/v1/pods", true});
  auto garbled = f.Watch("/api/v1/pods?watch=1");
  REQUIRE_OK(garbled->WaitForEnd(absl::Seconds(10)));
  CHECK(garbled->BadLines().size() == 1);
}

TEST_CASE("closing all watches ends every open stream cleanly", "[kube]") {
  Fixture f;
  std::vector<std::unique_ptr<WatchReader>> watches;
  // More watches than the real server would need, to show each holds its own worker.
  for (int i = 0; i < 40; ++i) watches.push_back(f.Watch("/api/v1/namespaces?watch=1"));
  for (auto& watch : watches) REQUIRE_OK(watch->WaitForEvents(2, absl::Seconds(20)));
  REQUIRE(f.client->Post("/api/v1/namespaces", {{"metadata", {{"name", "ns1"}}}}).code == 201);
  for (auto& watch : watches) REQUIRE_OK(watch->WaitForEvents(3, absl::Seconds(10)));
  f.server->CloseAllWatches();
  for (auto& watch : watches) REQUIRE_OK(watch->WaitForEnd(absl::Seconds(10)));
  CHECK(watches[0]->code() == 200);
}

}  // namespace
}  // namespace weave::testing::kube
