#include "npc/router_endpoints.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <deque>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/nft/fake_backend.h"
#include "grpcpp/grpcpp.h"
#include "npc/router_report.h"

namespace weave::npc {
namespace {

v1::Endpoint Endpoint(const std::string& id, const std::string& address, const std::string& ns,
                      const std::string& name) {
  v1::Endpoint endpoint;
  endpoint.set_container_id(id);
  endpoint.set_ifname("eth0");
  endpoint.add_addresses(address);
  endpoint.set_pod_namespace(ns);
  endpoint.set_pod_name(name);
  return endpoint;
}

v1::EndpointEvent Event(v1::EndpointEvent::Type type, v1::Endpoint endpoint = {}) {
  v1::EndpointEvent event;
  event.set_type(type);
  *event.mutable_endpoint() = std::move(endpoint);
  return event;
}

TEST_CASE("ToLocalEndpoint: the address without its prefix, the pod as namespace/name") {
  absl::StatusOr<LocalEndpoint> e = ToLocalEndpoint(Endpoint("c1", "10.32.0.5/12", "x", "a"));
  REQUIRE(e.ok());
  CHECK(*e == LocalEndpoint{"c1/eth0", "x/a", *net::Ipv4::Parse("10.32.0.5")});
  e = ToLocalEndpoint(Endpoint("c1", "10.32.0.5/12", "", ""));
  REQUIRE(e.ok());
  CHECK(e->pod_key.empty());

  CHECK(ToLocalEndpoint(Endpoint("", "10.32.0.5/12", "x", "a")).status().message() ==
        "endpoint without a container ID");
  CHECK(ToLocalEndpoint(Endpoint("c1", "fd00::5/64", "x", "a")).status().message() ==
        "endpoint c1/eth0: address \"fd00::5/64\" is not IPv4");
  v1::Endpoint none = Endpoint("c1", "", "x", "a");
  none.clear_addresses();
  CHECK(ToLocalEndpoint(none).status().message() == "endpoint c1/eth0 has no address");
}

TEST_CASE("ToPolicyStatus: the enforced pods as addresses") {
  ControllerStatus status;
  status.enforced_pods = {*net::Ipv4::Parse("10.32.0.5"), *net::Ipv4::Parse("10.32.0.6")};
  const v1::PolicyStatus out = ToPolicyStatus(status);
  REQUIRE(out.enforced_pods_size() == 2);
  CHECK(out.enforced_pods(0) == "10.32.0.5");
  CHECK(out.enforced_pods(1) == "10.32.0.6");
}

// A router that streams what the test queues; Hangup ends the current stream.
class FakeRouter : public v1::Router::Service {
 public:
  void Queue(v1::EndpointEvent event) {
    absl::MutexLock lock(&mu_);
    events_.push_back(std::move(event));
  }
  void Hangup() {
    absl::MutexLock lock(&mu_);
    hangup_ = true;
  }
  int subscriptions() const {
    absl::MutexLock lock(&mu_);
    return subscriptions_;
  }

  grpc::Status WatchEndpoints(grpc::ServerContext* context, const v1::WatchEndpointsRequest*,
                              grpc::ServerWriter<v1::EndpointEvent>* writer) override {
    {
      absl::MutexLock lock(&mu_);
      ++subscriptions_;
    }
    while (!context->IsCancelled()) {
      std::optional<v1::EndpointEvent> event;
      {
        absl::MutexLock lock(&mu_);
        const auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
          return hangup_ || !events_.empty();
        };
        mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(50));
        if (hangup_) {
          hangup_ = false;
          return grpc::Status(grpc::StatusCode::UNAVAILABLE, "router restarting");
        }
        if (events_.empty()) continue;
        event = std::move(events_.front());
        events_.pop_front();
      }
      if (!writer->Write(*event)) break;
    }
    return grpc::Status::OK;
  }

 private:
  mutable absl::Mutex mu_;
  std::deque<v1::EndpointEvent> events_ ABSL_GUARDED_BY(mu_);
  bool hangup_ ABSL_GUARDED_BY(mu_) = false;
  int subscriptions_ ABSL_GUARDED_BY(mu_) = 0;
};

using Json = nlohmann::json;
using Kind = Controller::Kind;

Json Pod(const std::string& name) {
  return {{"metadata", {{"namespace", "x"}, {"name", name}}},
          {"spec", {{"nodeName", "node-1"}}},
          {"status", {{"phase", "Running"}}}};
}

// Syncs until the enforced pods are `want` (sorted), or gives up after 10 s.
bool Enforces(Controller& controller, std::vector<std::string> want) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::sort(want.begin(), want.end());
  while (absl::Now() < deadline) {
    REQUIRE(controller.Sync().ok());
    std::vector<std::string> have;
    for (net::Ipv4 ip : controller.status().enforced_pods) have.push_back(ip.ToString());
    std::sort(have.begin(), have.end());
    if (have == want) return true;
    controller.WaitPending(absl::Now() + absl::Milliseconds(50));
  }
  return false;
}

TEST_CASE("EndpointWatcher: the list, then events, and again after the stream breaks") {
  char dir_template[] = "/tmp/npc-endpoints-XXXXXX";
  REQUIRE(mkdtemp(dir_template) != nullptr);
  const std::string socket = std::string(dir_template) + "/weave.sock";
  FakeRouter router;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
  builder.RegisterService(&router);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  REQUIRE(server != nullptr);

  nft::FakeBackend backend;
  Controller controller(&backend, CompileOptions{.node = "node-1"});
  for (const char* name : {"a", "b", "c"}) controller.Upsert(Kind::kPod, Pod(name));
  for (Kind kind : {Kind::kNamespace, Kind::kPod, Kind::kPolicy}) controller.MarkListed(kind);

  router.Queue(Event(v1::EndpointEvent::ADDED, Endpoint("c1", "10.32.0.2/12", "x", "a")));
  router.Queue(Event(v1::EndpointEvent::ADDED, Endpoint("c2", "10.32.0.3/12", "x", "b")));
  router.Queue(Event(v1::EndpointEvent::SYNCED));
  {
    EndpointWatcher watcher("unix://" + socket, &controller);
    watcher.Start();
    CHECK(Enforces(controller, {"10.32.0.2", "10.32.0.3"}));
    CHECK(watcher.synced());

    router.Queue(Event(v1::EndpointEvent::ADDED, Endpoint("c3", "10.32.0.4/12", "x", "c")));
    router.Queue(Event(v1::EndpointEvent::REMOVED, Endpoint("c1", "10.32.0.2/12", "x", "a")));
    router.Queue(Event(v1::EndpointEvent::ADDED, Endpoint("", "garbage", "", "")));  // ignored
    CHECK(Enforces(controller, {"10.32.0.3", "10.32.0.4"}));

    // The router restarts: the new stream's list replaces what the watcher knew (c2 went while
    // it was away).
    router.Hangup();
    router.Queue(Event(v1::EndpointEvent::ADDED, Endpoint("c3", "10.32.0.4/12", "x", "c")));
    router.Queue(Event(v1::EndpointEvent::SYNCED));
    CHECK(Enforces(controller, {"10.32.0.4"}));
    CHECK(router.subscriptions() == 2);

    const absl::Time stop_started = absl::Now();
    watcher.Stop();
    CHECK(absl::Now() - stop_started < absl::Seconds(2));
  }
  server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  unlink(socket.c_str());
  rmdir(dir_template);
}

}  // namespace
}  // namespace weave::npc
