#include "common/nft/plan.h"

#include <catch2/catch.hpp>

#include "common/nft/fake_backend.h"
#include "common/nft/testdata.h"
#include "test/harness/status_assertions.h"

namespace weave::nft {
namespace {

using testdata::Net;

const TableId kNpc{Family::kInet, "weave-npc"};

// Applies Plan(dump, desired) to `backend` and checks that the table then is `desired`.
Transaction PlanAndApply(FakeBackend& backend, const Table& desired) {
  absl::StatusOr<std::optional<Table>> current = backend.Dump(desired.family, desired.name);
  REQUIRE_OK(current);
  const Transaction transaction = Plan(*current, desired);
  REQUIRE_OK(backend.Apply(transaction));
  absl::StatusOr<std::optional<Table>> after = backend.Dump(desired.family, desired.name);
  REQUIRE_OK(after);
  CHECK(*after == Normalize(desired));
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

TEST_CASE("Plan replaces the whole table when its structure changes") {
  FakeBackend backend;
  PlanAndApply(backend, testdata::PolicyTable());

  Table new_chain = testdata::PolicyTable();
  new_chain.chains.push_back(Chain{"np-1", std::nullopt, {Rule{{Accept()}}}});
  CHECK(std::holds_alternative<ReplaceTable>(PlanAndApply(backend, new_chain).operations.at(0)));

  Table new_base = new_chain;
  new_base.chains[0].base->policy = Policy::kDrop;
  CHECK(std::holds_alternative<ReplaceTable>(PlanAndApply(backend, new_base).operations.at(0)));

  Table constant = new_base;  // The elements of a constant set cannot change in place.
  constant.FindSet("marks")->elements.push_back(Mark{2});
  CHECK(PlanAndApply(backend, constant).operations.size() == 1);
  CHECK(std::holds_alternative<ReplaceTable>(
      PlanAndApply(backend, testdata::PolicyTable()).operations.at(0)));
}

}  // namespace
}  // namespace weave::nft
