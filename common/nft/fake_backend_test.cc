#include "common/nft/fake_backend.h"

#include <catch2/catch.hpp>

#include "common/nft/testdata.h"
#include "test/harness/status_assertions.h"

namespace weave::nft {
namespace {

using ::Catch::Matchers::Contains;
using ::Catch::Matchers::StartsWith;
using testdata::Net;

const TableId kWeave{Family::kInet, "weave"};

Transaction Replace(Table table) { return Transaction{}.Add(ReplaceTable{std::move(table)}); }

TEST_CASE("FakeBackend stores a table and lists it like nft") {
  FakeBackend backend;
  ASSIGN_OR_REQUIRE(std::optional<Table> missing, backend.Dump(Family::kInet, "weave"));
  CHECK_FALSE(missing.has_value());

  REQUIRE_OK(backend.Apply(Replace(testdata::RouterTable())));
  CHECK(backend.ListRuleset() == testdata::kRouterTableText);
  ASSIGN_OR_REQUIRE(std::optional<Table> dumped, backend.Dump(Family::kInet, "weave"));
  REQUIRE(dumped.has_value());
  CHECK(*dumped == testdata::RouterTable());
  // Rule handles are numbered per table after the sets and chains, like the kernel's.
  CHECK(dumped->chains[0].rules[0].handle == 6);
  CHECK(dumped->chains[2].rules[1].handle == 11);
  CHECK(backend.applied().size() == 1);
}

TEST_CASE("FakeBackend applies nothing of a transaction that fails") {
  FakeBackend backend;
  REQUIRE_OK(backend.Apply(Replace(testdata::RouterTable())));
  const std::string before = backend.ListRuleset();

  Table broken = testdata::RouterTable();
  broken.chains[1].rules.push_back(Rule{{Jump("nowhere")}});
  Transaction transaction;
  transaction.Add(AddElements{kWeave, "npc-ready", {Ifname{"npc-ready"}}});
  transaction.Add(ReplaceTable{broken});
  const absl::Status status = backend.Apply(transaction);
  CHECK(status.code() == absl::StatusCode::kNotFound);
  CHECK(status.message() ==
        "replacing table inet weave: rule 3 of chain forward: ENOENT: No such file or directory "
        "(no chain nowhere)");
  CHECK(backend.ListRuleset() == before);
  CHECK(backend.applied().size() == 1);
}

TEST_CASE("FakeBackend refuses what the kernel refuses") {
  FakeBackend backend;
  REQUIRE_OK(backend.Apply(Replace(testdata::RouterTable())));
  const auto code = [&](Operation operation) {
    return backend.Apply(Transaction{}.Add(std::move(operation))).code();
  };
  // A rule using a missing set, or a set of the wrong type.
  CHECK(code(ReplaceChainRules{kWeave, "forward", {Rule{{InSet(Field::kIpSaddr, "nope")}}}}) ==
        absl::StatusCode::kNotFound);
  CHECK(code(ReplaceChainRules{kWeave, "forward", {Rule{{InSet(Field::kIpSaddr, "npc-ready")}}}}) ==
        absl::StatusCode::kInvalidArgument);
  // Jumps to base chains, jump loops, masquerade in a filter chain.
  CHECK(code(ReplaceChainRules{kWeave, "npc-gate", {Rule{{Jump("forward")}}}}) ==
        absl::StatusCode::kUnimplemented);
  CHECK(code(AddChain{kWeave, Chain{"a", std::nullopt, {Rule{{Jump("npc-gate")}}}}}) ==
        absl::StatusCode::kOk);
  const absl::Status loop =
      backend.Apply(Transaction{}.Add(ReplaceChainRules{kWeave, "npc-gate", {Rule{{Jump("a")}}}}));
  CHECK_THAT(std::string(loop.message()), Contains("EMLINK"));
  CHECK(code(ReplaceChainRules{kWeave, "npc-gate", {Rule{{Masquerade{}}}}}) ==
        absl::StatusCode::kUnimplemented);
  // Existing and missing objects.
  CHECK(code(AddChain{kWeave, Chain{"a", std::nullopt, {}}}) == absl::StatusCode::kAlreadyExists);
  CHECK(code(AddSet{kWeave, Set{"npc-ready", SetKeyType::kIfname}}) ==
        absl::StatusCode::kAlreadyExists);
  CHECK(code(DeleteChain{kWeave, "nope"}) == absl::StatusCode::kNotFound);
  CHECK(code(AddSet{{Family::kIp, "weave"}, Set{"s", SetKeyType::kIfname}}) ==
        absl::StatusCode::kNotFound);
  // Things still in use.
  CHECK(code(DeleteChain{kWeave, "npc-gate"}) == absl::StatusCode::kFailedPrecondition);
  CHECK(code(DeleteSet{kWeave, "pod-ranges"}) == absl::StatusCode::kFailedPrecondition);
  CHECK(code(DeleteChain{kWeave, "a"}) == absl::StatusCode::kOk);
  // A value that cannot be encoded is refused before anything else.
  CHECK(code(ReplaceChainRules{kWeave, "forward", {Rule{{Jump("fwd")}}}}) ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("FakeBackend updates set elements like the kernel") {
  FakeBackend backend;
  REQUIRE_OK(backend.Apply(Replace(testdata::PolicyTable())));
  const TableId npc{Family::kInet, "weave-npc"};
  const auto elements = [&](const std::string& set) {
    absl::StatusOr<std::optional<Table>> table = backend.Dump(Family::kInet, "weave-npc");
    REQUIRE_OK(table);
    return (*table)->FindSet(set)->elements;
  };

  REQUIRE_OK(backend.Apply(
      Transaction{}.Add(AddElements{npc, "pod-ips", {Net("10.32.0.3/32"), Net("10.32.0.2/32")}})));
  CHECK(elements("pod-ips") == std::vector<Element>{Net("10.32.0.2/32"), Net("10.32.0.3/32")});
  // Adding what is present is fine; deleting what is absent is not.
  CHECK_OK(backend.Apply(Transaction{}.Add(AddElements{npc, "pod-ips", {Net("10.32.0.3/32")}})));
  const absl::Status absent =
      backend.Apply(Transaction{}.Add(DeleteElements{npc, "pod-ips", {Net("10.32.0.9/32")}}));
  CHECK(absent.code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(absent.message()),
             StartsWith("deleting 1 element from set pod-ips of table inet weave-npc: "));
  REQUIRE_OK(
      backend.Apply(Transaction{}.Add(DeleteElements{npc, "pod-ips", {Net("10.32.0.2/32")}})));
  CHECK(elements("pod-ips") == std::vector<Element>{Net("10.32.0.3/32")});

  // Intervals may not overlap present ones; a network needs an interval set.
  CHECK(backend.Apply(Transaction{}.Add(AddElements{npc, "allowed-sources", {Net("10.33.1.0/24")}}))
            .code() == absl::StatusCode::kAlreadyExists);
  CHECK(
      backend.Apply(Transaction{}.Add(AddElements{npc, "pod-ips", {Net("10.33.1.0/24")}})).code() ==
      absl::StatusCode::kInvalidArgument);
  // A constant set that a rule uses is frozen.
  CHECK(backend.Apply(Transaction{}.Add(AddElements{npc, "marks", {Mark{2}}})).code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("FakeBackend looks up address, protocol and port triples only in sets of them") {
  FakeBackend backend;
  REQUIRE_OK(backend.Apply(Replace(testdata::PolicyTable())));
  const TableId npc{Family::kInet, "weave-npc"};
  const auto code = [&](Operation operation) {
    return backend.Apply(Transaction{}.Add(std::move(operation))).code();
  };
  CHECK(code(ReplaceChainRules{
            npc, "pods", {Rule{{InSet(Field::kIpDaddrL4ProtoThDport, "pod-ips")}}}}) ==
        absl::StatusCode::kInvalidArgument);
  CHECK(code(ReplaceChainRules{npc, "pods", {Rule{{InSet(Field::kIpDaddr, "named-ports")}}}}) ==
        absl::StatusCode::kInvalidArgument);
  CHECK(code(ReplaceChainRules{npc, "pods", {Rule{{InSet(Field::kThDport, "named-ports")}}}}) ==
        absl::StatusCode::kInvalidArgument);

  const AddrProtoPort dns{testdata::Addr("10.32.0.10"), kUdp, 53};
  REQUIRE_OK(backend.Apply(Transaction{}.Add(AddElements{npc, "named-ports", {dns}})));
  ASSIGN_OR_REQUIRE(std::optional<Table> dumped, backend.Dump(Family::kInet, "weave-npc"));
  CHECK(dumped->FindSet("named-ports")->elements ==
        std::vector<Element>{AddrProtoPort{testdata::Addr("10.32.0.5"), kTcp, 8080},
                             AddrProtoPort{testdata::Addr("10.32.0.6"), kUdp, 53}, dns});
  // The same address and port with another protocol is another element.
  CHECK(code(DeleteElements{npc, "named-ports", {AddrProtoPort{dns.addr, kTcp, 53}}}) ==
        absl::StatusCode::kNotFound);
  CHECK(code(AddElements{npc, "named-ports", {Net("10.32.0.10/32")}}) ==
        absl::StatusCode::kInvalidArgument);
  REQUIRE_OK(backend.Apply(Transaction{}.Add(DeleteElements{npc, "named-ports", {dns}})));
  ASSIGN_OR_REQUIRE(dumped, backend.Dump(Family::kInet, "weave-npc"));
  CHECK(*dumped == testdata::PolicyTable());
}

TEST_CASE("FakeBackend records transactions and can be told to fail") {
  FakeBackend backend;
  backend.FailNextApply(absl::PermissionDeniedError("EPERM"));
  CHECK(backend.Apply(Replace(testdata::RouterTable())).code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(backend.ListRuleset().empty());
  REQUIRE_OK(backend.Apply(Replace(testdata::RouterTable())));
  REQUIRE_OK(backend.Apply(Transaction{}));
  REQUIRE_OK(backend.Apply(Transaction{}.Add(DeleteTable{kWeave})));
  REQUIRE_OK(backend.Apply(Transaction{}.Add(DeleteTable{kWeave})));
  CHECK(backend.ListRuleset().empty());
  CHECK(backend.applied().size() == 3);
  CHECK(backend.applied()[1] == Transaction{}.Add(DeleteTable{kWeave}));
}

}  // namespace
}  // namespace weave::nft
