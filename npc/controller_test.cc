#include "npc/controller.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <thread>

#include "common/nft/fake_backend.h"

namespace weave::npc {
namespace {

using Json = nlohmann::json;
using Kind = Controller::Kind;

Json NamespaceObject(const std::string& name) {
  return {{"metadata", {{"name", name}, {"labels", {{"kubernetes.io/metadata.name", name}}}}}};
}

Json PodObject(const std::string& ns, const std::string& name, const std::string& ip) {
  Json pod = Json::parse(R"({"metadata": {"labels": {"app": "web"}}, "spec": {"nodeName": "node-1",
      "containers": [{"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}]},
      "status": {"phase": "Running"}})");
  pod["metadata"]["namespace"] = ns;
  pod["metadata"]["name"] = name;
  pod["status"]["podIP"] = ip;
  return pod;
}

Json PolicyObject(const std::string& name, const Json& spec) {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", {{"namespace", "x"}, {"name", name}}},
          {"spec", spec}};
}

const Json kAllowHttp = Json::parse(
    R"({"podSelector": {"matchLabels": {"app": "web"}},
        "ingress": [{"ports": [{"port": "http"}]}]})");

const Json kBadSelector = Json::parse(
    R"({"podSelector": {},
        "ingress": [{"from": [{"podSelector": {"matchExpressions":
            [{"key": "app", "operator": "Near", "values": ["web"]}]}}]}]})");

struct Fixture {
  nft::FakeBackend backend;
  Controller controller{&backend, CompileOptions{.node = "node-1"}};

  void ListAll() {
    controller.Upsert(Kind::kNamespace, NamespaceObject("x"));
    controller.Upsert(Kind::kPod, PodObject("x", "a", "10.32.0.2"));
    controller.Upsert(Kind::kPolicy, PolicyObject("allow-http", kAllowHttp));
    for (Kind kind : {Kind::kNamespace, Kind::kPod, Kind::kPolicy}) controller.MarkListed(kind);
  }
  nft::Table Table() { return **backend.Dump(nft::Family::kInet, kTableName); }
};

TEST_CASE("Controller: nothing is applied until every watch has listed") {
  Fixture f;
  f.controller.Upsert(Kind::kNamespace, NamespaceObject("x"));
  f.controller.MarkListed(Kind::kNamespace);
  f.controller.MarkListed(Kind::kPod);
  CHECK(!f.controller.Pending());
  REQUIRE(f.controller.Sync().ok());
  CHECK(f.backend.applied().empty());
  CHECK(!f.controller.status().ready);

  f.controller.MarkListed(Kind::kPolicy);
  CHECK(f.controller.Pending());
  REQUIRE(f.controller.Sync().ok());
  CHECK(f.backend.applied().size() == 1);
  CHECK(f.controller.status().ready);
  CHECK(!f.controller.Pending());
}

TEST_CASE("Controller: a pod event becomes element updates") {
  Fixture f;
  f.ListAll();
  REQUIRE(f.controller.Sync().ok());
  CHECK(f.Table().FindSet("in.x.allow-http.0.np")->elements.size() == 1);

  f.controller.Upsert(Kind::kPod, PodObject("x", "b", "10.32.0.3"));
  REQUIRE(f.controller.Sync().ok());
  const nft::Transaction last = f.backend.applied().back();
  for (const nft::Operation& operation : last.operations) {
    INFO(nft::Describe(operation));
    CHECK(std::holds_alternative<nft::AddElements>(operation));
  }
  CHECK(f.Table().FindSet("in.x.allow-http.0.np")->elements.size() == 2);

  // The same object again changes nothing and sends nothing.
  const size_t applied = f.backend.applied().size();
  f.controller.Upsert(Kind::kPod, PodObject("x", "b", "10.32.0.3"));
  CHECK(!f.controller.Pending());
  REQUIRE(f.controller.Sync().ok());
  CHECK(f.backend.applied().size() == applied);

  f.controller.Remove(Kind::kPod, PodObject("x", "b", "10.32.0.3"));
  REQUIRE(f.controller.Sync().ok());
  CHECK(f.Table().FindSet("in.x.allow-http.0.np")->elements.size() == 1);
  CHECK(f.controller.status().pods == 1);
}

TEST_CASE("Controller: a policy with an invalid selector is reported and the others stay") {
  Fixture f;
  f.ListAll();
  REQUIRE(f.controller.Sync().ok());
  const nft::Table before = f.Table();

  f.controller.Upsert(Kind::kPolicy, PolicyObject("broken", kBadSelector));
  REQUIRE(f.controller.Sync().ok());
  const ControllerStatus status = f.controller.status();
  REQUIRE(status.problems.count("x/broken") == 1);
  CHECK(status.problems.at("x/broken").find("\"Near\"") != std::string::npos);
  CHECK(status.policies == 2);

  const nft::Table after = f.Table();
  for (const char* chain : {"in.x.allow-http"}) {
    REQUIRE(after.FindChain(chain) != nullptr);
    CHECK(*after.FindChain(chain) == *before.FindChain(chain));
  }
  CHECK(*after.FindSet("in.x.allow-http.0.np") == *before.FindSet("in.x.allow-http.0.np"));
  // The broken policy isolates what it selects and allows nothing.
  REQUIRE(after.FindChain("in.x.broken") != nullptr);
  CHECK(after.FindChain("in.x.broken")->rules.empty());

  // Fixed, it is no longer reported.
  f.controller.Upsert(Kind::kPolicy,
                      PolicyObject("broken", Json::parse(R"({"podSelector": {}})")));
  REQUIRE(f.controller.Sync().ok());
  CHECK(f.controller.status().problems.empty());
}

TEST_CASE("Controller: a policy whose podSelector cannot be read is skipped and reported") {
  Fixture f;
  f.ListAll();
  REQUIRE(f.controller.Sync().ok());
  f.controller.Upsert(
      Kind::kPolicy,
      PolicyObject("unreadable", Json::parse(R"({"podSelector": {"matchLabels": {"app": 7}}})")));
  REQUIRE(f.controller.Sync().ok());
  CHECK(f.controller.status().problems.count("x/unreadable") == 1);
  CHECK(f.Table().FindChain("in.x.unreadable") == nullptr);
  f.controller.Remove(Kind::kPolicy, PolicyObject("unreadable", Json::object()));
  CHECK(f.controller.status().problems.empty());
}

TEST_CASE("Controller: a refused transaction is an error, counted, and retried") {
  Fixture f;
  f.ListAll();
  f.backend.FailNextApply(absl::UnavailableError("netlink: ENOBUFS"));
  absl::Status status = f.controller.Sync();
  CHECK(std::string(status.message()) == "applying table inet weave-npc: netlink: ENOBUFS");
  CHECK(f.controller.status().sync_errors == 1);
  CHECK(f.controller.Pending());
  REQUIRE(f.controller.Sync().ok());
  CHECK(f.controller.status().last_error.empty());
}

}  // namespace
}  // namespace weave::npc

namespace weave::npc {
namespace {

class RecordingSweeper : public FlowSweeper {
 public:
  absl::StatusOr<int> Sweep(const nft::Table& table) override {
    tables.push_back(table);
    return 2;
  }
  std::vector<nft::Table> tables;
};

TEST_CASE("Controller: flows are swept once after a change, with the applied table") {
  nft::FakeBackend backend;
  RecordingSweeper sweeper;
  Controller controller(&backend, CompileOptions{.node = "node-1"}, &sweeper);
  CHECK(*controller.SweepFlows() == 0);  // nothing applied yet
  controller.Upsert(Controller::Kind::kNamespace, NamespaceObject("x"));
  controller.Upsert(Controller::Kind::kPod, PodObject("x", "a", "10.32.0.2"));
  for (Kind kind : {Kind::kNamespace, Kind::kPod, Kind::kPolicy}) controller.MarkListed(kind);
  REQUIRE(controller.Sync().ok());
  CHECK(*controller.SweepFlows() == 2);
  REQUIRE(sweeper.tables.size() == 1);
  CHECK(nft::SameContent(sweeper.tables[0], **backend.Dump(nft::Family::kInet, kTableName)));
  CHECK(*controller.SweepFlows() == 0);  // no change since
  CHECK(controller.status().flows_deleted == 2);

  controller.Upsert(Kind::kPolicy, PolicyObject("deny", Json::parse(R"({"podSelector": {}})")));
  REQUIRE(controller.Sync().ok());
  CHECK(controller.WaitSweepDue(absl::Now()));
  CHECK(*controller.SweepFlows() == 2);
  CHECK(sweeper.tables.size() == 2);
  CHECK_FALSE(controller.WaitSweepDue(absl::Now()));
}

// Namespace x, every kind listed, and the first sync applied.
void FirstSync(Controller& controller) {
  controller.Upsert(Kind::kNamespace, NamespaceObject("x"));
  for (Kind kind : {Kind::kNamespace, Kind::kPod, Kind::kPolicy}) controller.MarkListed(kind);
  REQUIRE(controller.Sync().ok());
}

const Json kDenyAll = Json::parse(R"({"podSelector": {}})");

TEST_CASE("Controller: a burst of changes is swept once, with the last table") {
  nft::FakeBackend backend;
  RecordingSweeper sweeper;
  Controller controller(&backend, CompileOptions{.node = "node-1"}, &sweeper);
  FirstSync(controller);
  controller.Upsert(Kind::kPolicy, PolicyObject("deny", kDenyAll));
  REQUIRE(controller.Sync().ok());
  controller.Upsert(Controller::Kind::kPod, PodObject("x", "a", "10.32.0.2"));
  REQUIRE(controller.Sync().ok());
  CHECK(controller.status().syncs == 3);
  CHECK(*controller.SweepFlows() == 2);
  REQUIRE(sweeper.tables.size() == 1);
  CHECK(nft::SameContent(sweeper.tables[0], **backend.Dump(nft::Family::kInet, kTableName)));
  CHECK(*controller.SweepFlows() == 0);
}

// Holds each sweep until released, to show that syncs go on meanwhile.
class BlockingSweeper : public FlowSweeper {
 public:
  absl::StatusOr<int> Sweep(const nft::Table&) override {
    absl::MutexLock lock(&mu);
    ++started;
    mu.Await(absl::Condition(&released));
    released = false;
    return 1;
  }
  absl::Mutex mu;
  int started ABSL_GUARDED_BY(mu) = 0;
  bool released ABSL_GUARDED_BY(mu) = false;
};

TEST_CASE("Controller: syncs are not held up by a sweep in progress") {
  nft::FakeBackend backend;
  BlockingSweeper sweeper;
  Controller controller(&backend, CompileOptions{.node = "node-1"}, &sweeper);
  FirstSync(controller);
  std::thread sweep([&] { CHECK(*controller.SweepFlows() == 1); });
  {
    absl::MutexLock lock(&sweeper.mu);
    sweeper.mu.Await(absl::Condition(
        +[](int* started) { return *started == 1; }, &sweeper.started));
  }
  // The sweep is running: a policy change is applied all the same, and makes the next sweep due.
  controller.Upsert(Kind::kPolicy, PolicyObject("deny", kDenyAll));
  REQUIRE(controller.Sync().ok());
  CHECK(controller.status().syncs == 2);
  CHECK(controller.WaitSweepDue(absl::Now()));
  {
    absl::MutexLock lock(&sweeper.mu);
    sweeper.released = true;
  }
  sweep.join();
  CHECK(controller.status().flows_deleted == 1);
  CHECK(controller.WaitSweepDue(absl::Now()));
}

TEST_CASE("Controller: the policies selecting a pod, by direction, for blocked-connection lines") {
  Fixture f;
  f.ListAll();  // x/a (app=web) and x/allow-http (ingress, selects app=web)
  f.controller.Upsert(Kind::kPolicy,
                      PolicyObject("deny-egress", Json::parse(R"({"podSelector": {},
                          "policyTypes": ["Egress"]})")));
  f.controller.Upsert(Kind::kPolicy, PolicyObject("other", Json::parse(R"({"podSelector":
                          {"matchLabels": {"app": "db"}}})")));
  f.controller.Upsert(Kind::kPod, PodObject("y", "b", "10.32.0.3"));  // same labels, other ns
  CHECK(f.controller.PoliciesSelecting("x/a", true) == std::vector<std::string>{"x/allow-http"});
  CHECK(f.controller.PoliciesSelecting("x/a", false) == std::vector<std::string>{"x/deny-egress"});
  CHECK(f.controller.PoliciesSelecting("y/b", true).empty());
  CHECK(f.controller.PoliciesSelecting("x/nobody", true).empty());
}

// A pod the API knows without an address yet: scheduled here, not yet reported by kubelet.
Json PodWithoutAddress(const std::string& ns, const std::string& name) {
  Json pod = PodObject(ns, name, "");
  pod["status"].erase("podIP");
  return pod;
}

std::vector<net::Ipv4> Ips(std::initializer_list<const char*> texts) {
  std::vector<net::Ipv4> out;
  for (const char* text : texts) out.push_back(*net::Ipv4::Parse(text));
  return out;
}

std::vector<net::Ipv4> Sorted(std::vector<net::Ipv4> ips) {
  std::sort(ips.begin(), ips.end());
  return ips;
}

TEST_CASE("Controller: an early pod takes its address from its local endpoint") {
  Fixture f;
  f.ListAll();
  f.controller.Upsert(Kind::kPod, PodWithoutAddress("x", "early"));
  REQUIRE(f.controller.Sync().ok());
  CHECK(f.Table().FindSet("in.x.allow-http.sel")->elements.size() == 1);  // only a

  f.controller.UpsertEndpoint({"c1/eth0", "x/early", *net::Ipv4::Parse("10.32.0.9")});
  REQUIRE(f.controller.Pending());
  REQUIRE(f.controller.Sync().ok());
  CHECK(f.Table().FindSet("in.x.allow-http.sel")->elements.size() == 2);
  CHECK(f.controller.status().enforced_pods == Ips({"10.32.0.9"}));
  CHECK(f.controller.PodAt(*net::Ipv4::Parse("10.32.0.9")) == "x/early");

  // The API catches up with the same address: nothing changes.
  Json reported = PodObject("x", "early", "10.32.0.9");
  f.controller.Upsert(Kind::kPod, reported);
  CHECK_FALSE(f.controller.Pending());

  // Detached: the API's address stays the pod's until the API says otherwise.
  f.controller.RemoveEndpoint("c1/eth0");
  REQUIRE(f.controller.Sync().ok());
  CHECK(f.Table().FindSet("in.x.allow-http.sel")->elements.size() == 2);
  CHECK(f.controller.status().enforced_pods.empty());
}

TEST_CASE("Controller: which local endpoints a sync enforces") {
  Fixture f;
  f.ListAll();
  // a's endpoint (the API has it at that address), one of a pod the API does not know yet, one
  // of no pod (a container attached without Kubernetes' names), one whose pod the API has at
  // another address.
  f.controller.ReplaceEndpoints({{"c1/eth0", "x/a", *net::Ipv4::Parse("10.32.0.2")},
                                 {"c2/eth0", "x/unknown", *net::Ipv4::Parse("10.32.0.3")},
                                 {"c3/eth0", "", *net::Ipv4::Parse("10.32.0.4")}});
  REQUIRE(f.controller.Sync().ok());
  CHECK(Sorted(f.controller.status().enforced_pods) == Ips({"10.32.0.2", "10.32.0.4"}));

  // The API reports the unknown pod: it is enforced from the next sync on.
  f.controller.Upsert(Kind::kPod, PodWithoutAddress("x", "unknown"));
  REQUIRE(f.controller.Sync().ok());
  CHECK(Sorted(f.controller.status().enforced_pods) ==
        Ips({"10.32.0.2", "10.32.0.3", "10.32.0.4"}));

  // Re-subscribing replaces the list: what is not in it is forgotten.
  f.controller.ReplaceEndpoints({{"c3/eth0", "", *net::Ipv4::Parse("10.32.0.4")}});
  REQUIRE(f.controller.Sync().ok());
  CHECK(f.controller.status().enforced_pods == Ips({"10.32.0.4"}));
  CHECK(f.Table().FindSet("in.x.allow-http.sel")->elements.size() == 1);  // a only: unknown
                                                                           // lost its address

  // A pod the API has elsewhere than its endpoint is not enforced (the rules follow the API).
  f.controller.UpsertEndpoint({"c1/eth0", "x/a", *net::Ipv4::Parse("10.32.0.7")});
  REQUIRE(f.controller.Sync().ok());
  CHECK(f.controller.status().enforced_pods == Ips({"10.32.0.4"}));
}

TEST_CASE("Controller: an endpoint event alone asks for a sync, so that a report follows") {
  Fixture f;
  f.ListAll();
  REQUIRE(f.controller.Sync().ok());
  const uint64_t syncs = f.controller.status().syncs;
  f.controller.UpsertEndpoint({"c1/eth0", "x/a", *net::Ipv4::Parse("10.32.0.2")});
  REQUIRE(f.controller.Pending());
  REQUIRE(f.controller.Sync().ok());
  CHECK(f.controller.WaitSynced(syncs, absl::Now()));
  CHECK(f.controller.status().enforced_pods == Ips({"10.32.0.2"}));
}

}  // namespace
}  // namespace weave::npc
