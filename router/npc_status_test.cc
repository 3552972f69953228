#include "router/npc_status.h"

#include <catch2/catch.hpp>

#include "common/nft/fake_backend.h"

namespace weave::router {
namespace {

// A gate that only remembers, and can be made to fail.
class FakeGate : public PolicyGate {
 public:
  absl::Status OpenGate() override {
    ++attempts;
    if (!fail.ok()) return std::exchange(fail, absl::OkStatus());
    open = true;
    return absl::OkStatus();
  }
  bool gate_open() const override { return open; }
  absl::Status PodsEnforced(const std::vector<net::Ipv4>& addresses) override {
    enforced.insert(enforced.end(), addresses.begin(), addresses.end());
    return absl::OkStatus();
  }
  int pending_pods() const override { return 0; }

  bool open = false;
  std::vector<net::Ipv4> enforced;
  int attempts = 0;
  absl::Status fail;
};

v1::PolicyStatus Synced(bool done) {
  v1::PolicyStatus report;
  report.set_first_sync_done(done);
  report.set_policies(3);
  return report;
}

// Whether the gate is open after a report; fails the test on an error.
bool Report(NpcStatus& npc, bool first_sync_done) {
  absl::StatusOr<bool> open = npc.Report(Synced(first_sync_done));
  REQUIRE(open.ok());
  return *open;
}

const absl::Time kNow = absl::FromUnixSeconds(1790000000);

TEST_CASE("the first full sync opens the gate, which stays open", "[npc]") {
  FakeGate gate;
  NpcStatus npc(&gate, [] { return kNow; });
  v1::Status status;
  npc.Fill(&status);
  CHECK_FALSE(status.has_npc());
  CHECK(status.npc_gate().expected());
  CHECK_FALSE(status.npc_gate().open());

  // Reports before the first sync leave it closed.
  CHECK_FALSE(Report(npc, false));
  CHECK(gate.attempts == 0);
  status.Clear();
  npc.Fill(&status);
  REQUIRE(status.has_npc());
  CHECK(status.npc().policies() == 3);
  CHECK(status.npc().received_unix_seconds() == absl::ToUnixSeconds(kNow));
  CHECK_FALSE(status.npc_gate().open());

  CHECK(Report(npc, true));
  CHECK(gate.open);
  CHECK(Report(npc, true));
  // weave-npc restarted: its new instance has not synced yet; the gate does not close.
  CHECK(Report(npc, false));
  CHECK(gate.attempts == 1);
  status.Clear();
  npc.Fill(&status);
  CHECK_FALSE(status.npc().first_sync_done());  // the latest report
  CHECK(status.npc_gate().open());
}

TEST_CASE("a failed opening is an error and the next report retries", "[npc]") {
  FakeGate gate;
  gate.fail = absl::UnavailableError("ENOBUFS");
  NpcStatus npc(&gate);
  CHECK(absl::IsUnavailable(npc.Report(Synced(true)).status()));
  v1::Status status;
  npc.Fill(&status);
  CHECK(status.npc().first_sync_done());  // kept all the same
  CHECK_FALSE(status.npc_gate().open());
  CHECK(Report(npc, true));
  CHECK(gate.attempts == 2);
}

TEST_CASE("without EXPECT_NPC reports are kept and there is no gate", "[npc]") {
  NpcStatus npc(nullptr);
  v1::Status status;
  npc.Fill(&status);
  CHECK_FALSE(status.has_npc());
  CHECK_FALSE(status.npc_gate().expected());
  CHECK(status.npc_gate().open());
  CHECK(Report(npc, false));
  status.Clear();
  npc.Fill(&status);
  CHECK(status.has_npc());
}

TEST_CASE("reports open the gate of table inet weave", "[npc]") {
  nft::FakeBackend backend;
  Masquerade masquerade(&backend, {*net::Cidr::Parse("10.32.0.0/12"), true, true});
  REQUIRE(masquerade.Install({}).ok());
  NpcStatus npc(&masquerade);
  CHECK(Report(npc, true));
  absl::StatusOr<std::optional<nft::Table>> table = backend.Dump(nft::Family::kInet, "weave");
  REQUIRE(table.ok());
  REQUIRE(table->has_value());
  CHECK(GateOpenIn(**table));
}

net::Ipv4 Ip(const char* text) { return *net::Ipv4::Parse(text); }

TEST_CASE("enforced pods pass the per-pod gate once the first sync is done", "[npc]") {
  FakeGate gate;
  NpcStatus npc(&gate);
  v1::PolicyStatus report = Synced(false);
  report.add_enforced_pods("10.32.0.5");
  REQUIRE(npc.Report(report).ok());
  CHECK(gate.enforced.empty());  // not before the first sync: nothing is enforced yet

  report.set_first_sync_done(true);
  report.add_enforced_pods("10.32.0.6");
  REQUIRE(npc.Report(report).ok());
  CHECK(gate.enforced == std::vector<net::Ipv4>{Ip("10.32.0.5"), Ip("10.32.0.6")});
  v1::Status status;
  npc.Fill(&status);
  CHECK(status.npc().enforced_pods().empty());  // the list is not kept, its length is
  CHECK(status.npc().enforced_pod_count() == 2);
}

TEST_CASE("a report with a malformed enforced address is refused and changes nothing", "[npc]") {
  FakeGate gate;
  NpcStatus npc(&gate);
  v1::PolicyStatus report = Synced(true);
  report.add_enforced_pods("10.32.0.5");
  report.add_enforced_pods("10.32.0.300");
  absl::StatusOr<bool> open = npc.Report(report);
  REQUIRE(absl::IsInvalidArgument(open.status()));
  CHECK(std::string(open.status().message()) ==
        "enforced_pods: \"10.32.0.300\" is not an IPv4 address");
  CHECK_FALSE(gate.open);
  CHECK(gate.enforced.empty());
  v1::Status status;
  npc.Fill(&status);
  CHECK_FALSE(status.has_npc());
}

TEST_CASE("reports clear pending pods in table inet weave", "[npc]") {
  nft::FakeBackend backend;
  Masquerade masquerade(&backend, {*net::Cidr::Parse("10.32.0.0/12"), true, true});
  REQUIRE(masquerade.Install({}).ok());
  REQUIRE(masquerade.PodAttached(Ip("10.32.0.5")).ok());
  REQUIRE(masquerade.PodAttached(Ip("10.32.0.6")).ok());
  NpcStatus npc(&masquerade);
  v1::PolicyStatus report = Synced(true);
  report.add_enforced_pods("10.32.0.6");
  report.add_enforced_pods("10.32.0.9");  // not pending: ignored
  REQUIRE(npc.Report(report).ok());
  absl::StatusOr<std::optional<nft::Table>> table = backend.Dump(nft::Family::kInet, "weave");
  REQUIRE(table.ok());
  REQUIRE(table->has_value());
  CHECK(PendingIn(**table) == std::vector<net::Ipv4>{Ip("10.32.0.5")});
  v1::Status status;
  npc.Fill(&status);
  CHECK(status.npc_gate().pending_pods() == 1);
}

}  // namespace
}  // namespace weave::router
