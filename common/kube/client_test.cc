#include "common/kube/client.h"

#include <catch2/catch.hpp>
#include <deque>
#include <fstream>

#include "common/kube/errors.h"
#include "common/kube/fake_transport.h"
#include "ipam/testing/temp_dir.h"
#include "test/harness/status_assertions.h"

namespace weave::kube {
namespace {

constexpr char kServer[] = "https://fake.invalid:443";

Json Node(const std::string& name, const std::string& version) {
  return {{"kind", "Node"}, {"metadata", {{"name", name}, {"resourceVersion", version}}}};
}

FakeReply StatusReply(int code, const char* reason, const char* message) {
  return FakeReply::Json(
      code, {{"kind", "Status"}, {"code", code}, {"reason", reason}, {"message", message}});
}

std::string HeaderOf(const Request& request, const std::string& name) {
  for (const auto& [key, value] : request.headers) {
    if (key == name) return value;
  }
  return "";
}

// A Client over a FakeTransport that plays `replies` in order (and 500 once they run out).
struct Scripted {
  explicit Scripted(std::deque<FakeReply> replies,
                    std::shared_ptr<TokenSource> token = std::make_shared<StaticToken>("t0k3n"))
      : script(std::move(replies)) {
    auto owned = std::make_unique<FakeTransport>([this](const Request&) {
      if (script.empty()) return FakeReply::Text(500, "script ran out");
      FakeReply reply = std::move(script.front());
      script.pop_front();
      return reply;
    });
    transport = owned.get();
    client = std::make_unique<Client>(std::move(owned), std::move(token));
  }
  std::deque<FakeReply> script;
  FakeTransport* transport;
  std::unique_ptr<Client> client;
};

TEST_CASE("Get sends the bearer token and returns the object", "[kube]") {
  Scripted s({FakeReply::Json(200, Node("n1", "7"))});
  absl::StatusOr<Json> node = s.client->Get("/api/v1/nodes/n1");
  REQUIRE(node.ok());
  CHECK(ResourceVersionOf(*node) == "7");
  const Request request = s.transport->requests().at(0);
  CHECK(request.method == "GET");
  CHECK(request.path == "/api/v1/nodes/n1");
  CHECK(HeaderOf(request, "Authorization") == "Bearer t0k3n");
}

TEST_CASE("errors say what was being done, where, and what the server said", "[kube]") {
  Scripted s({StatusReply(403, "Forbidden", "nodes is forbidden"),
              FakeReply::Failure(absl::UnavailableError("Connection refused")),
              FakeReply::Text(200, "<html>hello</html>"), FakeReply::Json(200, Json::array())});
  absl::Status forbidden = s.client->List("/api/v1/nodes").status();
  CHECK(forbidden.code() == absl::StatusCode::kPermissionDenied);
  CHECK(forbidden.message() ==
        "listing nodes: https://fake.invalid:443/api/v1/nodes: 403 Forbidden: nodes is forbidden");
  absl::Status down = s.client->Get("/api/v1/namespaces/kube-system/configmaps/weave-net").status();
  CHECK(down.code() == absl::StatusCode::kUnavailable);
  CHECK(down.message() ==
        "getting configmaps kube-system/weave-net: https://fake.invalid:443/api/v1/namespaces/"
        "kube-system/configmaps/weave-net: Connection refused");
  absl::Status html = s.client->Get("/api/v1/nodes/n1").status();
  CHECK(html.code() == absl::StatusCode::kInvalidArgument);
  CHECK(html.message().find("getting nodes n1: https://fake.invalid:443/api/v1/nodes/n1: invalid "
                            "JSON") == 0);
  CHECK(s.client->Get("/api/v1/nodes/n1").status().message().find("not a JSON object") !=
        absl::string_view::npos);
}

TEST_CASE("List follows continue tokens and passes selectors", "[kube]") {
  Json page1 = {{"metadata", {{"resourceVersion", "10"}, {"continue", "abc"}}},
                {"items", {Node("a", "1"), Node("b", "2")}}};
  Json page2 = {{"metadata", {{"resourceVersion", "10"}}}, {"items", {Node("c", "3")}}};
  Scripted s({FakeReply::Json(200, page1), FakeReply::Json(200, page2)});
  ListOptions options{.label_selector = "app=weave", .resource_version = "5", .page_size = 2};
  absl::StatusOr<ObjectList> list = s.client->List("/api/v1/nodes", options);
  REQUIRE(list.ok());
  CHECK(list->resource_version == "10");
  REQUIRE(list->items.size() == 3);
  CHECK(NameOf(list->items[2]) == "c");
  auto requests = s.transport->requests();
  CHECK(requests[0].path == "/api/v1/nodes?labelSelector=app%3Dweave&limit=2&resourceVersion=5");
  CHECK(requests[1].path == "/api/v1/nodes?labelSelector=app%3Dweave&limit=2&continue=abc");
}

TEST_CASE("List refuses answers that are not lists", "[kube]") {
  Scripted s({FakeReply::Json(200, {{"items", "x"}}),
              FakeReply::Json(200, {{"metadata", {{"continue", "same"}}}}),
              FakeReply::Json(200, {{"metadata", {{"continue", "same"}}}})});
  CHECK(s.client->List("/api/v1/nodes").status().message().find("items is not a list") !=
        absl::string_view::npos);
  CHECK(s.client->List("/api/v1/nodes", {.page_size = 1})
            .status()
            .message()
            .find("same continue token") != absl::string_view::npos);
  // No items at all is an empty list.
  Scripted empty({FakeReply::Json(200, {{"metadata", {{"resourceVersion", "3"}}}})});
  CHECK(empty.client->List("/api/v1/nodes")->items.empty());
}

TEST_CASE("a 401 makes the client read a rotated token and try once more", "[kube]") {
  ipam::testing::TempDir dir;
  const std::string path = dir.File("token");
  std::ofstream(path) << "old";
  int answered = 0;
  auto transport = std::make_unique<FakeTransport>([&](const Request&) {
    if (answered++ > 0) return FakeReply::Json(200, Node("n1", "1"));
    std::ofstream(path) << "new-token";  // rotated while the request was on its way
    return FakeReply::Text(401, "Unauthorized");
  });
  FakeTransport* fake = transport.get();
  Client client(std::move(transport), std::make_shared<FileToken>(path));
  CHECK_OK(client.Get("/api/v1/nodes/n1"));
  auto requests = fake->requests();
  REQUIRE(requests.size() == 2);
  CHECK(HeaderOf(requests[0], "Authorization") == "Bearer old");
  CHECK(HeaderOf(requests[1], "Authorization") == "Bearer new-token");
}

TEST_CASE("a 401 with a token that cannot change is an error at once", "[kube]") {
  Scripted s({StatusReply(401, "Unauthorized", "Unauthorized")});
  absl::Status status = s.client->Get("/api/v1/nodes").status();
  CHECK(IsApiUnauthorized(status));
  CHECK(status.code() == absl::StatusCode::kUnauthenticated);
  CHECK(s.transport->requests().size() == 1);
}

TEST_CASE("Update applies the mutation to a fresh object after each conflict", "[kube]") {
  Scripted s({FakeReply::Json(200, Node("n1", "1")), StatusReply(409, "Conflict", "changed"),
              FakeReply::Json(200, Node("n1", "2")), StatusReply(409, "Conflict", "changed"),
              FakeReply::Json(200, Node("n1", "3")), FakeReply::Json(200, Node("n1", "4"))});
  std::vector<std::string> seen;
  absl::StatusOr<Json> updated = s.client->Update("/api/v1/nodes/n1", [&](Json& node) {
    seen.push_back(ResourceVersionOf(node));
    node["metadata"]["labels"] = {{"weave", "yes"}};
    return absl::OkStatus();
  });
  REQUIRE(updated.ok());
  CHECK(ResourceVersionOf(*updated) == "4");
  CHECK(seen == std::vector<std::string>{"1", "2", "3"});
  auto requests = s.transport->requests();
  REQUIRE(requests.size() == 6);
  CHECK(requests[5].method == "PUT");
  CHECK(HeaderOf(requests[5], "Content-Type") == "application/json");
  Json sent = ParseJson(requests[5].body).value();
  CHECK(ResourceVersionOf(sent) == "3");
  CHECK(sent["metadata"]["labels"]["weave"] == "yes");
}

TEST_CASE("Update gives up after max_update_attempts conflicts", "[kube]") {
  std::deque<FakeReply> replies;
  for (int i = 0; i < 5; ++i) {
    replies.push_back(FakeReply::Json(200, Node("n1", std::to_string(i))));
    replies.push_back(StatusReply(409, "Conflict", "changed"));
  }
  Scripted s(std::move(replies));
  absl::Status status = s.client
                            ->Update("/api/v1/nodes/n1",
                                     [](Json& node) {
                                       node["spec"] = {{"x", 1}};
                                       return absl::OkStatus();
                                     })
                            .status();
  CHECK(IsApiConflict(status));
  CHECK(status.message().find("(gave up after 5 attempts)") != absl::string_view::npos);
  CHECK(s.transport->requests().size() == 10);
}

TEST_CASE("Update writes nothing when the mutation changes nothing, and returns its error",
          "[kube]") {
  Scripted s({FakeReply::Json(200, Node("n1", "1")), FakeReply::Json(200, Node("n1", "1"))});
  CHECK(s.client->Update("/api/v1/nodes/n1", [](Json&) { return absl::OkStatus(); }).ok());
  absl::Status refused =
      s.client
          ->Update("/api/v1/nodes/n1", [](Json&) { return absl::FailedPreconditionError("no"); })
          .status();
  CHECK(refused == absl::FailedPreconditionError("no"));
  CHECK(s.transport->requests().size() == 2);  // two GETs, no PUT
}

TEST_CASE("Create, Patch and Delete send what the API expects", "[kube]") {
  Json configmap = {{"metadata", {{"name", "weave-net"}, {"namespace", "kube-system"}}}};
  Scripted s({FakeReply::Json(201, configmap), StatusReply(409, "AlreadyExists", "exists"),
              FakeReply::Json(200, Node("n1", "9")), StatusReply(404, "NotFound", "gone")});
  CHECK(s.client->Create("/api/v1/namespaces/kube-system/configmaps", configmap).ok());
  absl::Status exists =
      s.client->Create("/api/v1/namespaces/kube-system/configmaps", configmap).status();
  CHECK(IsApiAlreadyExists(exists));
  CHECK(exists.message().find("creating configmaps kube-system/weave-net: ") == 0);
  Json patch = {{"status", {{"conditions", {{{"type", "NetworkUnavailable"}}}}}}};
  CHECK(s.client->Patch("/api/v1/nodes/n1/status", patch).ok());
  CHECK(IsApiNotFound(s.client->Delete("/api/v1/nodes/n1")));
  auto requests = s.transport->requests();
  CHECK(requests[0].method == "POST");
  CHECK(ParseJson(requests[0].body).value() == configmap);
  CHECK(requests[2].method == "PATCH");
  CHECK(requests[2].path == "/api/v1/nodes/n1/status");
  CHECK(HeaderOf(requests[2], "Content-Type") == "application/merge-patch+json");
  CHECK(requests[3].method == "DELETE");
}

std::string EventLine(const char* type, const Json& object) {
  return DumpJson({{"type", type}, {"object", object}}) + "\n";
}

TEST_CASE("Watch streams events until the server ends the watch", "[kube]") {
  FakeReply stream;
  stream.pieces = {
      EventLine("ADDED", Node("a", "11")).substr(0, 10),
      EventLine("ADDED", Node("a", "11")).substr(10) + EventLine("MODIFIED", Node("a", "12")),
      EventLine("BOOKMARK", {{"metadata", {{"resourceVersion", "15"}}}})};
  Scripted s({stream});
  std::vector<std::string> seen;
  WatchOptions options{.resource_version = "10", .timeout_seconds = 60};
  absl::Status status = s.client->Watch("/api/v1/nodes", options, [&](WatchEvent event) {
    seen.push_back(absl::StrCat(EventTypeName(event.type), " ", ResourceVersionOf(event.object)));
  });
  CHECK(status.ok());
  CHECK(seen == std::vector<std::string>{"ADDED 11", "MODIFIED 12", "BOOKMARK 15"});
  const Request request = s.transport->requests().at(0);
  CHECK(request.path ==
        "/api/v1/nodes?watch=1&resourceVersion=10&allowWatchBookmarks=true&timeoutSeconds=60");
  CHECK(request.timeout == absl::Seconds(90));
}

TEST_CASE("Watch ends with the error an ERROR event or garbage carries", "[kube]") {
  FakeReply expired;
  expired.pieces = {EventLine("ADDED", Node("a", "11")),
                    EventLine("ERROR", {{"kind", "Status"},
                                        {"code", 410},
                                        {"reason", "Expired"},
                                        {"message", "too old resource version: 1 (11)"}}),
                    EventLine("ADDED", Node("never", "12"))};
  FakeReply garbage;
  garbage.pieces = {EventLine("ADDED", Node("b", "13")), "<html>oops</html>\n"};
  FakeReply cut;
  cut.pieces = {EventLine("ADDED", Node("c", "14")), "{\"type\":\"ADD"};
  Scripted s({expired, garbage, cut, StatusReply(500, "InternalError", "etcd down")});
  std::vector<std::string> names;
  auto collect = [&](WatchEvent event) { names.push_back(NameOf(event.object)); };

  absl::Status gone = s.client->Watch("/api/v1/nodes", {.resource_version = "1"}, collect);
  CHECK(IsApiGone(gone));
  CHECK(gone.message().find("watching nodes: https://fake.invalid:443/api/v1/nodes?watch=1") == 0);
  CHECK(gone.message().find("410 Gone: too old resource version") != absl::string_view::npos);
  absl::Status invalid = s.client->Watch("/api/v1/nodes", {}, collect);
  CHECK(invalid.code() == absl::StatusCode::kInvalidArgument);
  CHECK(invalid.message().find("not a watch event") != absl::string_view::npos);
  absl::Status truncated = s.client->Watch("/api/v1/nodes", {}, collect);
  CHECK(truncated.code() == absl::StatusCode::kUnavailable);
  absl::Status internal = s.client->Watch("/api/v1/nodes", {}, collect);
  CHECK(internal.code() == absl::StatusCode::kUnavailable);
  CHECK(internal.message().find("500 Internal Server Error: etcd down") != absl::string_view::npos);
  CHECK(names == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("Watch returns Cancelled when stopped", "[kube]") {
  FakeReply quiet;
  quiet.pieces = {EventLine("ADDED", Node("a", "1"))};
  quiet.hold_open = true;
  Scripted s({quiet});
  absl::Notification stop;
  absl::Status status = s.client->Watch(
      "/api/v1/nodes", {}, [&](WatchEvent) { stop.Notify(); }, &stop);
  CHECK(status.code() == absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace weave::kube
