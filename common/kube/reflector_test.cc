#include "common/kube/reflector.h"

#include <catch2/catch.hpp>
#include <deque>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/kube/fake_transport.h"
#include "common/kube/recording_handler.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "test/harness/wait_for.h"

namespace weave::kube {
namespace {

Json Node(const std::string& name, const std::string& version) {
  return {{"metadata", {{"name", name}, {"resourceVersion", version}}}};
}

FakeReply List(const std::string& version, std::vector<Json> items) {
  return FakeReply::Json(200, {{"metadata", {{"resourceVersion", version}}}, {"items", items}});
}

std::string EventLine(const char* type, const Json& object) {
  return DumpJson({{"type", type}, {"object", object}}) + "\n";
}

FakeReply Stream(std::vector<std::string> lines, bool hold_open = false) {
  FakeReply reply;
  reply.pieces = std::move(lines);
  reply.hold_open = hold_open;
  return reply;
}

// An API server of scripted answers: lists and watches each take the next of their own; once
// the script runs out, lists fail and watches stay open with nothing to say.
class FakeApi {
 public:
  FakeApi()
      : transport_(new FakeTransport([this](const Request& request) { return Answer(request); })),
        client_(std::unique_ptr<Transport>(transport_), nullptr) {}

  void AddList(FakeReply reply) {
    absl::MutexLock lock(&mu_);
    lists_.push_back(std::move(reply));
  }
  void AddWatch(FakeReply reply) {
    absl::MutexLock lock(&mu_);
    watches_.push_back(std::move(reply));
  }
  Client* client() { return &client_; }
  std::vector<std::string> WatchVersions() const {
    std::vector<std::string> versions;
    for (const Request& request : transport_->requests()) {
      if (!absl::StrContains(request.path, "watch=1")) continue;
      size_t at = request.path.find("resourceVersion=");
      versions.push_back(at == std::string::npos
                             ? ""
                             : request.path.substr(at + 16, request.path.find('&', at) - at - 16));
    }
    return versions;
  }

 private:
  FakeReply Answer(const Request& request) {
    absl::MutexLock lock(&mu_);
    auto& queue = absl::StrContains(request.path, "watch=1") ? watches_ : lists_;
    if (queue.empty()) {
      return &queue == &watches_ ? Stream({}, true) : FakeReply::Text(500, "no more lists");
    }
    FakeReply reply = std::move(queue.front());
    queue.pop_front();
    return reply;
  }

  absl::Mutex mu_;
  std::deque<FakeReply> lists_ ABSL_GUARDED_BY(mu_);
  std::deque<FakeReply> watches_ ABSL_GUARDED_BY(mu_);
  FakeTransport* transport_;
  Client client_;
};

// Waits until `handler` has recorded `count` events.
bool WaitForEvents(const RecordingHandler& handler, size_t count) {
  return weave::testing::WaitFor([&] { return handler.events().size() >= count; },
                                 absl::Seconds(10), "events")
      .ok();
}

// Options that make the reflector's waits instant and recorded, its jitter nil.
struct Recorded {
  ReflectorOptions Options() {
    ReflectorOptions options;
    options.backoff.jitter = 0;
    options.short_watch = absl::ZeroDuration();
    options.sleep = [this](absl::Duration delay) {
      absl::MutexLock lock(&mu);
      sleeps.push_back(absl::ToInt64Seconds(delay));
    };
    return options;
  }
  std::vector<int64_t> Sleeps() {
    absl::MutexLock lock(&mu);
    return sleeps;
  }
  absl::Mutex mu;
  std::vector<int64_t> sleeps;
};

TEST_CASE("the reflector lists, reports synced, then applies watch events", "[kube]") {
  FakeApi api;
  api.AddList(List("10", {Node("a", "1"), Node("b", "2")}));
  api.AddWatch(Stream({EventLine("MODIFIED", Node("a", "11")),
                       EventLine("BOOKMARK", {{"metadata", {{"resourceVersion", "15"}}}}),
                       EventLine("ADDED", Node("c", "16")), EventLine("DELETED", Node("b", "17"))},
                      /*hold_open=*/true));
  RecordingHandler recorder;
  Recorded recorded;
  Reflector reflector(api.client(), "/api/v1/nodes", &recorder, recorded.Options());
  CHECK_FALSE(reflector.synced());
  reflector.Start();
  REQUIRE(WaitForEvents(recorder, 6));
  CHECK(recorder.events() == std::vector<std::string>{"add a 1", "add b 2", "synced",
                                                      "update a 1 -> 11", "add c 16",
                                                      "delete b 17"});
  CHECK(reflector.synced());
  CHECK(reflector.resource_version() == "17");
  CHECK(ResourceVersionOf(*reflector.Get("a")) == "11");
  CHECK_FALSE(reflector.Get("b").has_value());
  CHECK(reflector.List().size() == 2);
  CHECK(api.WatchVersions() == std::vector<std::string>{"10"});
  const absl::Time before = absl::Now();
  reflector.Stop();  // while the watch is open
  CHECK(absl::Now() - before < absl::Seconds(1));
  CHECK(recorded.Sleeps().empty());
}

TEST_CASE("bookmarks advance the resourceVersion the next watch starts from", "[kube]") {
  FakeApi api;
  api.AddList(List("10", {}));
  api.AddWatch(Stream({EventLine("BOOKMARK", {{"metadata", {{"resourceVersion", "20"}}}})}));
  api.AddWatch(Stream({EventLine("BOOKMARK", {{"metadata", {{"resourceVersion", "25"}}}})}));
  RecordingHandler recorder;
  Recorded recorded;
  Reflector reflector(api.client(), "/api/v1/nodes", &recorder, recorded.Options());
  reflector.Start();
  REQUIRE(weave::testing::WaitFor([&] { return api.WatchVersions().size() >= 3; },
                                  absl::Seconds(10), "three watches")
              .ok());
  reflector.Stop();
  CHECK(api.WatchVersions() == std::vector<std::string>{"10", "20", "25"});
  CHECK(recorder.events() == std::vector<std::string>{"synced"});
}

TEST_CASE("an expired resourceVersion makes the reflector list again", "[kube]") {
  FakeApi api;
  api.AddList(List("10", {Node("a", "1"), Node("b", "2")}));
  SECTION("as an ERROR event") {
    api.AddWatch(Stream({EventLine(
        "ERROR",
        {{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}, {"message", "too old"}})}));
  }
  SECTION("as HTTP 410") {
    api.AddWatch(FakeReply::Json(410, {{"kind", "Status"}, {"code", 410}, {"reason", "Gone"}}));
  }
  api.AddList(List("30", {Node("a", "28"), Node("c", "29")}));
  RecordingHandler recorder;
  Recorded recorded;
  Reflector reflector(api.client(), "/api/v1/nodes", &recorder, recorded.Options());
  reflector.Start();
  REQUIRE(WaitForEvents(recorder, 6));
  REQUIRE(weave::testing::WaitFor([&] { return api.WatchVersions().size() >= 2; },
                                  absl::Seconds(10), "second watch")
              .ok());
  reflector.Stop();
  CHECK(recorder.events() == std::vector<std::string>{"add a 1", "add b 2", "synced", "delete b 2",
                                                      "update a 1 -> 28", "add c 29"});
  CHECK(api.WatchVersions() == std::vector<std::string>{"10", "30"});
  CHECK(recorded.Sleeps().empty());  // relisting is not a failure
}

TEST_CASE("failures are retried with growing back-off and logged one line at a time", "[kube]") {
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  spdlog::default_logger()->sinks().push_back(sink);

  FakeApi api;
  api.AddList(FakeReply::Text(500, "boom"));
  api.AddList(FakeReply::Text(200, "<html><body>Welcome to nginx</body></html>"));
  api.AddList(FakeReply::Failure(absl::UnavailableError("Connection refused")));
  api.AddList(FakeReply::Json(403, {{"kind", "Status"}, {"message", "forbidden"}}));
  api.AddList(List("10", {Node("a", "1")}));
  api.AddWatch(Stream({EventLine("ADDED", Node("b", "11")), "{\"garbage\n"}));
  api.AddWatch(FakeReply::Text(500, "{truncated"));
  api.AddWatch(Stream({EventLine("ADDED", Node("c", "12"))}, /*hold_open=*/true));
  RecordingHandler recorder;
  Recorded recorded;
  ReflectorOptions options = recorded.Options();
  options.now = [] { return absl::FromUnixSeconds(1000); };  // all within one log interval
  Reflector reflector(api.client(), "/api/v1/nodes", &recorder, options);
  reflector.Start();
  REQUIRE(WaitForEvents(recorder, 4));
  reflector.Stop();
  spdlog::default_logger()->sinks().pop_back();

  CHECK(recorder.events() == std::vector<std::string>{"add a 1", "synced", "add b 11", "add c 12"});
  // Four failed lists: 1, 2, 4, 8 s; the list resets the back-off; the garbage watch and the 500
  // watch after it: 1 (the garbage watch delivered an event first), 2.
  CHECK(recorded.Sleeps() == std::vector<int64_t>{1, 2, 4, 8, 1, 2});
  CHECK(api.WatchVersions() == std::vector<std::string>{"10", "11", "11"});
  const std::string text = log.str();
  INFO(text);
  // The first failure is logged; the others within the interval are held back; the recovery is
  // logged and makes the next failure loggable at once.
  CHECK(absl::StrContains(text,
                          "listing nodes: https://fake.invalid:443/api/v1/nodes?limit=500: "
                          "500 Internal Server Error: boom; retrying in 1s"));
  CHECK_FALSE(absl::StrContains(text, "nginx"));
  CHECK(absl::StrContains(text, "nodes: working again after 4 failed attempts"));
  CHECK(absl::StrContains(text, "not a watch event"));
  CHECK_FALSE(absl::StrContains(text, "{truncated"));
}

TEST_CASE("a server that ends every watch at once is not hammered", "[kube]") {
  FakeApi api;
  api.AddList(List("10", {}));
  for (int i = 0; i < 4; ++i) api.AddWatch(Stream({}));
  RecordingHandler recorder;
  Recorded recorded;
  ReflectorOptions options = recorded.Options();
  options.short_watch = absl::Hours(1);
  Reflector reflector(api.client(), "/api/v1/nodes", &recorder, options);
  reflector.Start();
  REQUIRE(weave::testing::WaitFor([&] { return api.WatchVersions().size() >= 5; },
                                  absl::Seconds(10), "five watches")
              .ok());
  reflector.Stop();
  CHECK(recorded.Sleeps() == std::vector<int64_t>{1, 2, 4, 8});
}

TEST_CASE("Stop interrupts a back-off wait promptly", "[kube]") {
  FakeApi api;  // every list fails
  RecordingHandler recorder;
  ReflectorOptions options;
  options.backoff.initial = absl::Seconds(30);
  Reflector reflector(api.client(), "/api/v1/nodes", &recorder, options);
  reflector.Start();
  absl::SleepFor(absl::Milliseconds(50));
  const absl::Time before = absl::Now();
  reflector.Stop();
  CHECK(absl::Now() - before < absl::Seconds(1));
  CHECK_FALSE(reflector.synced());
  reflector.Stop();  // idempotent
}

}  // namespace
}  // namespace weave::kube
