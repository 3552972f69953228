// The Client and a Reflector over the real transport, against a local HTTPS server that plays
// an API server's part for /api/v1/nodes: list, watch with bookmarks, expiry, garbage, a stream
// cut short, 500s, and a bearer token it checks.
#include <catch2/catch.hpp>
#include <deque>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/kube/client.h"
#include "common/kube/curl_transport.h"
#include "common/kube/errors.h"
#include "common/kube/https_test_server.h"
#include "common/kube/recording_handler.h"
#include "common/kube/reflector.h"
#include "test/harness/status_assertions.h"
#include "test/harness/wait_for.h"

namespace weave::kube {
namespace {

using testing::HttpsTestServer;

Json Node(const std::string& name, const std::string& version) {
  return {{"kind", "Node"}, {"metadata", {{"name", name}, {"resourceVersion", version}}}};
}

std::string EventLine(const char* type, const Json& object) {
  return DumpJson({{"type", type}, {"object", object}}) + "\n";
}

// What the server answers to one watch.
struct WatchScript {
  int status = 200;
  std::string body;  // for a status other than 200
  std::vector<std::string> lines;
  bool cut = false;   // end without the terminating chunk
  bool hold = false;  // stay open until the server stops
};

// /api/v1/nodes for tokens "Bearer good": lists and watches answer from their scripts, in turn.
class FakeNodesApi {
 public:
  explicit FakeNodesApi(HttpsTestServer& server) : server_(server) {
    server.server().Get("/api/v1/nodes", [this](const httplib::Request& req,
                                                httplib::Response& res) { Serve(req, res); });
  }
  void AddList(Json list) {
    absl::MutexLock lock(&mu_);
    lists_.push_back(std::move(list));
  }
  void AddWatch(WatchScript script) {
    absl::MutexLock lock(&mu_);
    watches_.push_back(std::move(script));
  }
  std::vector<std::string> watch_versions() const {
    absl::MutexLock lock(&mu_);
    return watch_versions_;
  }

 private:
  void Serve(const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") != "Bearer good") {
      res.status = 401;
      res.set_content(DumpJson({{"kind", "Status"}, {"code", 401}, {"message", "Unauthorized"}}),
                      "application/json");
      return;
    }
    absl::MutexLock lock(&mu_);
    if (req.get_param_value("watch") != "1") {
      if (lists_.empty()) {
        res.status = 500;
        return;
      }
      res.set_content(DumpJson(lists_.front()), "application/json");
      lists_.pop_front();
      return;
    }
    watch_versions_.push_back(req.get_param_value("resourceVersion"));
    WatchScript script = watches_.empty() ? WatchScript{.hold = true} : watches_.front();
    if (!watches_.empty()) watches_.pop_front();
    if (script.status != 200) {
      res.status = script.status;
      res.set_content(script.body, "text/html");
      return;
    }
    res.set_chunked_content_provider(
        "application/json", [this, script](size_t, httplib::DataSink& sink) {
          for (const std::string& line : script.lines) sink.write(line.data(), line.size());
          if (script.hold) server_.stopping().WaitForNotificationWithTimeout(absl::Seconds(30));
          if (script.cut || script.hold) return false;
          sink.done();
          return true;
        });
  }

  HttpsTestServer& server_;
  mutable absl::Mutex mu_;
  std::deque<Json> lists_ ABSL_GUARDED_BY(mu_);
  std::deque<WatchScript> watches_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> watch_versions_ ABSL_GUARDED_BY(mu_);
};

struct Fixture {
  Fixture()
      : pki(testing::SharedTestPki("api")),
        server(HttpsTestServer::Start(pki).value()),
        api(std::make_unique<FakeNodesApi>(*server)) {}
  std::unique_ptr<Client> NewClientWithToken(const std::string& token) {
    Config config{.server = server->url(),
                  .ca_pem = pki.ca_pem,
                  .token = std::make_shared<StaticToken>(token)};
    return NewClient(config).value();
  }
  const testing::TestPki& pki;
  std::unique_ptr<HttpsTestServer> server;
  std::unique_ptr<FakeNodesApi> api;
};

TEST_CASE("a wrong token is a one-line 401 error", "[kube]") {
  Fixture f;
  absl::Status status = f.NewClientWithToken("bad")->List("/api/v1/nodes").status();
  CHECK(IsApiUnauthorized(status));
  CHECK(status.message() == absl::StrCat("listing nodes: ", f.server->url(),
                                         "/api/v1/nodes: 401 Unauthorized: "
                                         "Unauthorized"));
}

TEST_CASE("a reflector follows the API through expiry, garbage, cuts and 500s", "[kube]") {
  Fixture f;
  f.api->AddList({{"metadata", {{"resourceVersion", "5"}}}, {"items", {Node("a", "4")}}});
  f.api->AddWatch({.lines = {EventLine("ADDED", Node("b", "6")),
                             EventLine("BOOKMARK", {{"metadata", {{"resourceVersion", "8"}}}})}});
  f.api->AddWatch({.status = 410, .body = "{\"kind\":\"Status\",\"code\":410}"});
  f.api->AddList({{"metadata", {{"resourceVersion", "9"}}}, {"items", {Node("b", "9")}}});
  f.api->AddWatch({.lines = {"<html><body>Bad Gateway</body></html>\n"}});
  f.api->AddWatch(
      {.lines = {EventLine("ADDED", Node("c", "10")), "{\"type\":\"MODIFIED\",\"ob"}, .cut = true});
  f.api->AddWatch({.status = 500, .body = "<html>oops</html>"});
  f.api->AddWatch({.lines = {EventLine("MODIFIED", Node("c", "11"))}, .hold = true});

  std::unique_ptr<Client> client = f.NewClientWithToken("good");
  RecordingHandler recorder;
  ReflectorOptions options;
  options.backoff = {.initial = absl::Milliseconds(10), .max = absl::Milliseconds(40)};
  Reflector reflector(client.get(), "/api/v1/nodes", &recorder, options);
  reflector.Start();
  const std::vector<std::string> expected = {"add a 4",          "synced",          "add b 6",
                                             "delete a 4",       "update b 6 -> 9", "add c 10",
                                             "update c 10 -> 11"};
  CHECK_OK(weave::testing::WaitFor([&] { return recorder.events().size() >= expected.size(); },
                                   absl::Seconds(20), "the reflector's events"));
  CHECK(recorder.events() == expected);
  CHECK(f.api->watch_versions() == std::vector<std::string>{"5", "8", "9", "9", "10", "10"});
  CHECK(reflector.resource_version() == "11");
  CHECK(reflector.List().size() == 2);

  const absl::Time before = absl::Now();
  reflector.Stop();
  CHECK(absl::Now() - before < absl::Seconds(1));
}

TEST_CASE("a reflector keeps trying while the server is down", "[kube]") {
  Fixture f;
  std::unique_ptr<Client> client = f.NewClientWithToken("good");
  f.server->Stop();
  RecordingHandler recorder;
  ReflectorOptions options;
  options.backoff = {.initial = absl::Milliseconds(10), .max = absl::Milliseconds(20)};
  Reflector reflector(client.get(), "/api/v1/nodes", &recorder, options);
  reflector.Start();
  absl::SleepFor(absl::Milliseconds(200));
  CHECK_FALSE(reflector.synced());
  reflector.Stop();
  CHECK(recorder.events().empty());
}

}  // namespace
}  // namespace weave::kube
