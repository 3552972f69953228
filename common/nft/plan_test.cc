#include "common/nft/plan.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "common/nft/fake_backend.h"
#include "common/nft/testdata.h"
#include "test/harness/status_assertions.h"

namespace weave::nft {
namespace {

using testdata::Net;
using testdata::ReplacesTable;

const TableId kNpc{Family::kInet, "weave-npc"};

// Applies Plan(dump, desired) to `backend` and checks that the table then is `desired` and that
// planning again finds nothing to do.
Transaction PlanAndApply(FakeBackend& backend, const Table& desired) {
  absl::StatusOr<std::optional<Table>> current = backend.Dump(desired.family, desired.name);
  REQUIRE_OK(current);
  const Transaction transaction = Plan(*current, desired);
  REQUIRE_OK(backend.Apply(transaction));
  absl::StatusOr<std::optional<Table>> after = backend.Dump(desired.family, desired.name);
  REQUIRE_OK(after);
  REQUIRE(after->has_value());
  CHECK(SameContent(**after, Normalize(desired)));
  CHECK(Plan(*after, desired).empty());
  return transaction;
}

TEST_CASE("Plan creates a missing table and does nothing when all is in place") {
  FakeBackend backend;
  CHECK(PlanAndApply(backend, testdata::PolicyTable()) ==
        Transaction{}.Add(ReplaceTable{testdata::PolicyTable()}));
  CHECK(PlanAndApply(backend, testdata::PolicyTable()).empty());
}

TEST_CASE("Plan turns pod churn into element updates, deletions first") {
  FakeBackend backend;
  PlanAndApply(backend, testdata::PolicyTable());
  Table desired = testdata::PolicyTable();
  desired.sets[0].elements = {Net("10.32.0.5/32"), Net("10.33.0.0/17"), Net("10.34.0.0/28"),
                              Net("192.168.0.0/16"), Net("10.32.0.8/32")};
  desired.FindSet("pod-ips")->elements.push_back(Net("10.32.0.3/32"));
  CHECK(
      PlanAndApply(backend, desired) ==
      Transaction{}
          .Add(DeleteElements{kNpc, "allowed-sources", {Net("10.32.0.6/32"), Net("10.33.0.0/16")}})
          .Add(AddElements{kNpc, "allowed-sources", {Net("10.32.0.8/32"), Net("10.33.0.0/17")}})
          .Add(AddElements{kNpc, "pod-ips", {Net("10.32.0.3/32")}}));
}

TEST_CASE("Plan replaces only the rules of chains that changed") {
  FakeBackend backend;
  PlanAndApply(backend, testdata::PolicyTable());
  Table desired = testdata::PolicyTable();
  desired.chains[1].rules.pop_back();
  // Written the long way; Plan compares normalized rules.
  desired.chains[1].rules.push_back(
      Rule{{Is(Field::kL4Proto, kUdp), Is(Field::kThDport, Port(53)), Accept()}});
  CHECK(PlanAndApply(backend, desired) ==
        Transaction{}.Add(ReplaceChainRules{kNpc, "pods", Normalize(desired).chains[1].rules}));
}

TEST_CASE("Plan adds and removes chains and sets by name, the base chain untouched") {
  FakeBackend backend;
  const std::vector<testdata::TableStep> steps = testdata::PolicyChanges();
  for (size_t i = 0; i < steps.size(); ++i) {
    INFO(steps[i].what);
    const Transaction transaction = PlanAndApply(backend, steps[i].table);
    CHECK(ReplacesTable(transaction) == (i == 0));
  }
}

TEST_CASE(
    "Plan orders finer operations so that nothing is used before it exists or after it is "
    "gone") {
  const std::vector<testdata::TableStep> steps = testdata::PolicyChanges();
  const auto index_of = [&](absl::string_view what) {
    const auto it =
        std::find_if(steps.begin() + 1, steps.end(),
                     [&](const testdata::TableStep& step) { return step.what == what; });
    REQUIRE(it != steps.end());
    return static_cast<size_t>(it - steps.begin());
  };
  const auto plan_step = [&](absl::string_view what) {
    const size_t i = index_of(what);
    return Plan(Normalize(steps[i - 1].table), steps[i].table);
  };
  const size_t added = index_of("a policy's chain and set added");
  CHECK(
      plan_step("a policy's chain and set added") ==
      Transaction{}
          .Add(AddSet{
              kNpc, Set{"np-1-sources", SetKeyType::kIpv4Addr, true, false, {Net("10.36.0.0/14")}}})
          .Add(AddChain{kNpc, Chain{"np-1-ingress", std::nullopt, {}}})
          .Add(ReplaceChainRules{
              kNpc, "np-1-ingress", {Rule{{InSet(Field::kIpSaddr, "np-1-sources"), Accept()}}}})
          .Add(ReplaceChainRules{kNpc, "pods", steps[added].table.FindChain("pods")->rules}));
  // The rules that jump to removed chains go first, then the removed chains' own rules (they jump
  // to each other), then the chains.
  const Transaction removal = plan_step("chains that jump to each other removed together");
  REQUIRE(removal.operations.size() == 7);
  CHECK(std::get<ReplaceChainRules>(removal.operations[0]).chain == "pods");
  for (size_t i = 1; i <= 3; ++i) {
    CHECK(std::get<ReplaceChainRules>(removal.operations[i]).rules.empty());
  }
  CHECK(removal.operations[4] == Operation(DeleteChain{kNpc, "chain-a"}));
  CHECK(removal.operations[5] == Operation(DeleteChain{kNpc, "chain-b"}));
  CHECK(removal.operations[6] == Operation(DeleteChain{kNpc, "chain-c"}));
  // A renamed set is added before the rules that use it, and deleted after the rules that used
  // the old name are gone.
  const Transaction rename = plan_step("a policy renamed");
  REQUIRE(rename.operations.size() == 7);
  CHECK(std::holds_alternative<AddSet>(rename.operations.front()));
  CHECK(rename.operations.back() == Operation(DeleteSet{kNpc, "np-1-sources"}));
  // Chains get their new rules callees first, so that no jump loop exists midway.
  const Transaction turned = plan_step("the jump turned around");
  REQUIRE(turned.operations.size() == 3);
  CHECK(std::get<ReplaceChainRules>(turned.operations[0]).chain == "chain-x");
  CHECK(std::get<ReplaceChainRules>(turned.operations[1]).chain == "chain-y");
  CHECK(std::get<ReplaceChainRules>(turned.operations[2]).chain == "pods");
}

TEST_CASE("Plan matches chains and sets by name, whatever order the kernel lists them in") {
  Table shuffled = testdata::PolicyTable();
  std::reverse(shuffled.chains.begin(), shuffled.chains.end());
  std::reverse(shuffled.sets.begin(), shuffled.sets.end());
  CHECK(Plan(shuffled, testdata::PolicyTable()).empty());
  shuffled.FindSet("pod-ips")->elements.push_back(Net("10.32.0.3/32"));
  CHECK(Plan(testdata::PolicyTable(), shuffled) ==
        Transaction{}.Add(AddElements{kNpc, "pod-ips", {Net("10.32.0.3/32")}}));
}

TEST_CASE("Plan replaces the whole table when a base chain or a set's shape changes") {
  FakeBackend backend;
  PlanAndApply(backend, testdata::PolicyTable());

  Table new_chain = testdata::PolicyTable();
  new_chain.chains.push_back(Chain{"np-1", std::nullopt, {Rule{{Accept()}}}});
  CHECK_FALSE(ReplacesTable(PlanAndApply(backend, new_chain)));

  Table new_base = new_chain;
  new_base.chains[0].base->policy = Policy::kDrop;
  CHECK(ReplacesTable(PlanAndApply(backend, new_base)));

  Table another_base = new_base;
  another_base.chains.push_back(
      Chain{"egress", BaseChain{ChainType::kFilter, Hook::kOutput, 0, Policy::kAccept}, {}});
  CHECK(ReplacesTable(PlanAndApply(backend, another_base)));

  Table reshaped = new_base;
  reshaped.FindSet("pod-ips")->interval = true;
  CHECK(ReplacesTable(PlanAndApply(backend, reshaped)));

  Table constant = reshaped;  // The elements of a constant set cannot change in place.
  constant.FindSet("marks")->elements.push_back(Mark{2});
  const Transaction frozen = PlanAndApply(backend, constant);
  CHECK(frozen.operations.size() == 1);
  CHECK(ReplacesTable(frozen));
  CHECK(ReplacesTable(PlanAndApply(backend, testdata::PolicyTable())));
}

}  // namespace
}  // namespace weave::nft
