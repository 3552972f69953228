#include "router/net/masquerade.h"

#include <catch2/catch.hpp>

#include "common/nft/fake_backend.h"

namespace weave::router {
namespace {

net::Cidr Range() { return *net::Cidr::Parse("10.32.0.0/12"); }
net::Ipv4 Ip(const char* text) { return *net::Ipv4::Parse(text); }

TEST_CASE("the router's table masquerades pod <-> outside only", "[masquerade]") {
  RouterTableOptions options{Range(), true, false};
  std::string text = nft::ToText(RouterTable(options, {Ip("10.32.0.2")}, false));
  CHECK_THAT(text, Catch::Contains("type nat hook postrouting priority srcnat; policy accept;"));
  CHECK_THAT(text, Catch::Contains("ip saddr 10.32.0.0/12 ip daddr 10.32.0.0/12 return"));
  CHECK_THAT(text, Catch::Contains("ip saddr 10.32.0.0/12 masquerade fully-random"));
  CHECK_THAT(text, Catch::Contains("ip daddr @local-pods return"));
  CHECK_THAT(text, Catch::Contains("ip daddr 10.32.0.0/12 masquerade fully-random"));
  CHECK_THAT(text, Catch::Contains("10.32.0.2"));

  options.no_masq_local = false;
  CHECK_THAT(nft::ToText(RouterTable(options, {}, false)), !Catch::Contains("@local-pods return"));
}

constexpr char kPostrouting[] = R"(	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 10.32.0.0/12 ip daddr 224.0.0.0/4 return comment "pod multicast: untouched"
		ip saddr 10.32.0.0/12 ip daddr 10.32.0.0/12 return comment "pod to pod: untouched"
		ip saddr 10.32.0.0/12 masquerade fully-random comment "pod to outside"
		ip daddr @local-pods return comment "NO_MASQ_LOCAL: keep the client address for local pods"
		ip daddr 10.32.0.0/12 masquerade fully-random comment "outside to pod"
	}
)";

constexpr char kGateChainText[] = R"(
	chain forward {
		type filter hook forward priority filter; policy accept;
		ip daddr != @npc-ready ip daddr @local-pods ct state new log prefix "weave-gate: " group 86 drop comment "EXPECT_NPC: new connections to local pods wait for the first sync of weave-npc"
		ip daddr @npc-pending ct state new log prefix "weave-gate: " group 86 drop comment "EXPECT_NPC: a new pod is reachable once weave-npc enforces its policies"
		ip saddr @npc-pending ct state new log prefix "weave-gate: " group 86 drop comment "EXPECT_NPC: a new pod reaches out once weave-npc enforces its policies"
	}
)";

constexpr char kLocalPods[] = R"(table inet weave {
	set local-pods {
		type ipv4_addr
		elements = { 10.32.0.2, 10.32.0.3 }
	}
)";

TEST_CASE("with EXPECT_NPC the table gates new connections to local pods", "[masquerade]") {
  const RouterTableOptions options{Range(), true, true};
  const std::vector<net::Ipv4> pods = {Ip("10.32.0.3"), Ip("10.32.0.2")};

  // Closed: npc-ready is empty, so `ip daddr != @npc-ready` holds for every address.
  CHECK(nft::ToText(RouterTable(options, pods, false)) == std::string(kLocalPods) + R"(
	set npc-ready {
		type ipv4_addr
		flags interval
	}

	set npc-pending {
		type ipv4_addr
	}

)" + kPostrouting + kGateChainText + "}\n");

  // Open: npc-ready holds every address, so the rule never matches.
  CHECK(nft::ToText(RouterTable(options, pods, true)) == std::string(kLocalPods) + R"(
	set npc-ready {
		type ipv4_addr
		flags interval
		elements = { 0.0.0.0/0 }
	}

	set npc-pending {
		type ipv4_addr
	}

)" + kPostrouting + kGateChainText + "}\n");

  // EXPECT_NPC=0: neither the set nor the chain; nothing here drops.
  const RouterTableOptions no_npc{Range(), true, false};
  CHECK(nft::ToText(RouterTable(no_npc, pods, false)) ==
        std::string(kLocalPods) + "\n" + kPostrouting + "}\n");
  CHECK(RouterTable(no_npc, pods, true) == RouterTable(no_npc, pods, false));

  CHECK(nft::ValidateTable(RouterTable(options, pods, false)).ok());
  CHECK(nft::ValidateTable(RouterTable(options, pods, true)).ok());
}

TEST_CASE("local pods follow attach and detach", "[masquerade]") {
  nft::FakeBackend backend;
  Masquerade masquerade(&backend, {Range(), true, true});
  REQUIRE(masquerade.Install({}).ok());
  REQUIRE(masquerade.PodAttached(Ip("10.32.0.5")).ok());
  auto table = backend.Dump(nft::Family::kInet, "weave");
  REQUIRE(table.ok());
  REQUIRE(table->has_value());
  CHECK((*table)->FindSet("local-pods")->elements.size() == 1);
  REQUIRE(masquerade.PodDetached(Ip("10.32.0.5")).ok());
  CHECK(masquerade.PodDetached(Ip("10.32.0.5")).ok());  // repeated DEL
  table = backend.Dump(nft::Family::kInet, "weave");
  CHECK((*table)->FindSet("local-pods")->elements.empty());
  // Re-installing replaces the table in one step.
  REQUIRE(masquerade.Install({Ip("10.32.0.7")}).ok());
  table = backend.Dump(nft::Family::kInet, "weave");
  CHECK((*table)->FindSet("local-pods")->elements.size() == 1);
  REQUIRE(masquerade.Remove().ok());
  CHECK_FALSE(backend.Dump(nft::Family::kInet, "weave")->has_value());
  CHECK(masquerade.Remove().ok());
}

// The table as the (fake) kernel holds it.
nft::Table Dumped(nft::FakeBackend& backend) {
  absl::StatusOr<std::optional<nft::Table>> table = backend.Dump(nft::Family::kInet, "weave");
  REQUIRE(table.ok());
  REQUIRE(table->has_value());
  return **table;
}

TEST_CASE("the gate opens with one element update and stays open", "[masquerade]") {
  nft::FakeBackend backend;
  Masquerade masquerade(&backend, {Range(), true, true});
  CHECK_FALSE(masquerade.gate_open());
  REQUIRE(masquerade.Install({Ip("10.32.0.2")}).ok());
  CHECK_FALSE(masquerade.gate_open());
  CHECK_FALSE(GateOpenIn(Dumped(backend)));

  REQUIRE(masquerade.OpenGate().ok());
  CHECK(masquerade.gate_open());
  // (A fresh node: its pod waits for weave-npc's report that it is enforced.)
  CHECK(Dumped(backend) ==
        RouterTable({Range(), true, true}, {Ip("10.32.0.2")}, true, {Ip("10.32.0.2")}));
  const std::vector<nft::Transaction> applied = backend.applied();
  REQUIRE(applied.size() == 2);
  CHECK(applied[1] ==
        nft::Transaction().Add(nft::AddElements{
            {nft::Family::kInet, "weave"}, "npc-ready", {*net::Cidr::Parse("0.0.0.0/0")}}));

  // Opening again changes nothing; pods come and go and re-installing keeps it open.
  REQUIRE(masquerade.OpenGate().ok());
  CHECK(backend.applied().size() == 2);
  REQUIRE(masquerade.PodAttached(Ip("10.32.0.9")).ok());
  REQUIRE(masquerade.Install({Ip("10.32.0.2"), Ip("10.32.0.9")}).ok());
  CHECK(GateOpenIn(Dumped(backend)));
}

TEST_CASE("a failed opening leaves the gate closed for a later attempt", "[masquerade]") {
  nft::FakeBackend backend;
  Masquerade masquerade(&backend, {Range(), true, true});
  REQUIRE(masquerade.Install({}).ok());
  backend.FailNextApply(absl::ResourceExhaustedError("ENOBUFS"));
  CHECK(absl::IsResourceExhausted(masquerade.OpenGate()));
  CHECK_FALSE(masquerade.gate_open());
  CHECK_FALSE(GateOpenIn(Dumped(backend)));
  REQUIRE(masquerade.OpenGate().ok());
  CHECK(GateOpenIn(Dumped(backend)));
}

TEST_CASE("Install keeps the gate's state found in the kernel", "[masquerade]") {
  nft::FakeBackend backend;
  const RouterTableOptions options{Range(), true, true};
  {
    // A new node: the gate starts closed.
    Masquerade first_run(&backend, options);
    REQUIRE(first_run.Install({}).ok());
    CHECK_FALSE(first_run.gate_open());
  }
  {
    // A router restart before weave-npc synced: still closed.
    Masquerade second_run(&backend, options);
    REQUIRE(second_run.Install({Ip("10.32.0.2")}).ok());
    CHECK_FALSE(second_run.gate_open());
    CHECK_FALSE(GateOpenIn(Dumped(backend)));
    REQUIRE(second_run.OpenGate().ok());
  }
  // A router restart after: the new router finds the gate open and keeps it so, without a
  // report from weave-npc.
  Masquerade third_run(&backend, options);
  REQUIRE(third_run.Install({Ip("10.32.0.2")}).ok());
  CHECK(third_run.gate_open());
  CHECK(Dumped(backend) == RouterTable(options, {Ip("10.32.0.2")}, true));
}

TEST_CASE("a gate opened before Install is created open", "[masquerade]") {
  nft::FakeBackend backend;
  Masquerade masquerade(&backend, {Range(), true, true});
  REQUIRE(masquerade.OpenGate().ok());  // weave-npc reported while the router was starting
  CHECK(backend.applied().empty());
  REQUIRE(masquerade.Install({}).ok());
  CHECK(GateOpenIn(Dumped(backend)));
}

// Fails every Dump; applies nothing.
class UnreadableBackend : public nft::FakeBackend {
 public:
  absl::StatusOr<std::optional<nft::Table>> Dump(nft::Family, absl::string_view) override {
    return absl::PermissionDeniedError("EPERM: Operation not permitted");
  }
};

TEST_CASE("Install changes nothing when it cannot read the gate's state", "[masquerade]") {
  UnreadableBackend backend;
  Masquerade masquerade(&backend, {Range(), true, true});
  absl::Status installed = masquerade.Install({});
  CHECK(absl::IsPermissionDenied(installed));
  CHECK_THAT(std::string(installed.message()),
             Catch::Contains("reading table inet weave for the state of the policy gate"));
  CHECK(backend.applied().empty());
}

TEST_CASE("without EXPECT_NPC there is no gate", "[masquerade]") {
  nft::FakeBackend backend;
  // A node that ran with the gate closed, restarted with EXPECT_NPC=0: the gate goes.
  REQUIRE(Masquerade(&backend, {Range(), true, true}).Install({}).ok());
  Masquerade masquerade(&backend, {Range(), true, false});
  CHECK(masquerade.gate_open());
  REQUIRE(masquerade.Install({Ip("10.32.0.2")}).ok());
  nft::Table table = Dumped(backend);
  CHECK(table.FindChain("forward") == nullptr);
  CHECK(table.FindSet("npc-ready") == nullptr);
  const size_t applied = backend.applied().size();
  REQUIRE(masquerade.OpenGate().ok());
  CHECK(backend.applied().size() == applied);
}

TEST_CASE("a new pod waits in npc-pending until weave-npc enforces it", "[masquerade]") {
  nft::FakeBackend backend;
  const RouterTableOptions options{Range(), true, true};
  Masquerade masquerade(&backend, options);
  REQUIRE(masquerade.Install({}).ok());
  REQUIRE(masquerade.OpenGate().ok());
  const size_t before = backend.applied().size();
  REQUIRE(masquerade.PodAttached(Ip("10.32.0.5")).ok());
  // One transaction: the pod is never a local pod without being pending.
  REQUIRE(backend.applied().size() == before + 1);
  CHECK(PendingIn(Dumped(backend)) == std::vector<net::Ipv4>{Ip("10.32.0.5")});
  CHECK(masquerade.pending_pods() == 1);
  // A repeated ADD changes nothing.
  REQUIRE(masquerade.PodAttached(Ip("10.32.0.5")).ok());
  CHECK(backend.applied().size() == before + 1);

  REQUIRE(masquerade.PodAttached(Ip("10.32.0.6")).ok());
  REQUIRE(masquerade.PodsEnforced({Ip("10.32.0.5"), Ip("10.32.0.77")}).ok());
  CHECK(PendingIn(Dumped(backend)) == std::vector<net::Ipv4>{Ip("10.32.0.6")});
  const size_t after = backend.applied().size();
  REQUIRE(masquerade.PodsEnforced({Ip("10.32.0.5")}).ok());  // nothing pending among them
  CHECK(backend.applied().size() == after);

  // Detaching a pending pod takes it out of both sets; an enforced one out of local-pods.
  REQUIRE(masquerade.PodDetached(Ip("10.32.0.6")).ok());
  REQUIRE(masquerade.PodDetached(Ip("10.32.0.5")).ok());
  CHECK(PendingIn(Dumped(backend)).empty());
  CHECK(Dumped(backend).FindSet("local-pods")->elements.empty());
  CHECK(masquerade.pending_pods() == 0);
}

TEST_CASE("a failed clearing leaves the pods pending", "[masquerade]") {
  nft::FakeBackend backend;
  Masquerade masquerade(&backend, {Range(), true, true});
  REQUIRE(masquerade.Install({}).ok());
  REQUIRE(masquerade.PodAttached(Ip("10.32.0.5")).ok());
  backend.FailNextApply(absl::ResourceExhaustedError("ENOBUFS"));
  CHECK(absl::IsResourceExhausted(masquerade.PodsEnforced({Ip("10.32.0.5")})));
  CHECK(masquerade.pending_pods() == 1);
  REQUIRE(masquerade.PodsEnforced({Ip("10.32.0.5")}).ok());
  CHECK(PendingIn(Dumped(backend)).empty());
}

TEST_CASE("Install keeps pending pods across router restarts", "[masquerade]") {
  nft::FakeBackend backend;
  const RouterTableOptions options{Range(), true, true};
  {
    // A fresh node: no table to go by, so every local pod waits for weave-npc.
    Masquerade first_run(&backend, options);
    REQUIRE(first_run.Install({Ip("10.32.0.2"), Ip("10.32.0.3")}).ok());
    CHECK(first_run.pending_pods() == 2);
    REQUIRE(first_run.OpenGate().ok());
    REQUIRE(first_run.PodsEnforced({Ip("10.32.0.2")}).ok());
  }
  // A restart: 10.32.0.3 is still pending, 10.32.0.2 is not; a pending address that is no
  // longer a local pod is dropped.
  Masquerade second_run(&backend, options);
  REQUIRE(second_run.Install({Ip("10.32.0.2")}).ok());
  CHECK(second_run.pending_pods() == 0);
  CHECK(PendingIn(Dumped(backend)).empty());
  Masquerade third_run(&backend, options);
  REQUIRE(third_run.Install({Ip("10.32.0.2"), Ip("10.32.0.3")}).ok());
  CHECK(third_run.pending_pods() == 0);  // it was not pending in the table found
}

TEST_CASE("a table from before the per-pod gate leaves its pods enforced", "[masquerade]") {
  nft::FakeBackend backend;
  const RouterTableOptions options{Range(), true, true};
  nft::Table old = RouterTable(options, {Ip("10.32.0.2")}, true);
  std::erase_if(old.sets, [](const nft::Set& set) { return set.name == kNpcPendingSet; });
  old.chains.clear();
  nft::Transaction transaction;
  transaction.Add(nft::ReplaceTable{old});
  REQUIRE(backend.Apply(transaction).ok());
  Masquerade masquerade(&backend, options);
  REQUIRE(masquerade.Install({Ip("10.32.0.2")}).ok());
  CHECK(masquerade.gate_open());
  CHECK(masquerade.pending_pods() == 0);
}

}  // namespace
}  // namespace weave::router
