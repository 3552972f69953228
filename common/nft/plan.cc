#include "common/nft/plan.h"

#include <algorithm>
#include <deque>
#include <iterator>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"

namespace weave::nft {
namespace {

// A table's chains and sets by name, for lookups in tables of many chains and sets.
class ByName {
 public:
  explicit ByName(const Table& table) : ByName(table.chains, table.sets) {}
  ByName(const std::vector<Chain>& chains, const std::vector<Set>& sets) {
    for (const Chain& chain : chains) chains_.emplace(chain.name, &chain);
    for (const Set& set : sets) sets_.emplace(set.name, &set);
  }
  ByName(const std::vector<const Chain*>& chains, const std::vector<Set>& sets) {
    for (const Chain* chain : chains) chains_.emplace(chain->name, chain);
    for (const Set& set : sets) sets_.emplace(set.name, &set);
  }

  const Chain* chain(absl::string_view name) const {
    const auto it = chains_.find(name);
    return it == chains_.end() ? nullptr : it->second;
  }
  const Set* set(absl::string_view name) const {
    const auto it = sets_.find(name);
    return it == sets_.end() ? nullptr : it->second;
  }

 private:
  absl::flat_hash_map<absl::string_view, const Chain*> chains_;
  absl::flat_hash_map<absl::string_view, const Set*> sets_;
};

bool SameShape(const Set& a, const Set& b) {
  return a.name == b.name && a.key_type == b.key_type && a.interval == b.interval &&
         a.constant == b.constant;
}

// Whether changes to sets, elements, regular chains and rules can turn `current` into `desired`:
// the base chains (the hooks packets enter by) stay as they are, and so does every set that both
// have, constant sets with their elements.
bool Incremental(const Table& current, const ByName& have, const Table& desired) {
  if (current.family != desired.family || current.name != desired.name) return false;
  const auto base_chains = [](const Table& table) {
    return std::count_if(table.chains.begin(), table.chains.end(),
                         [](const Chain& chain) { return chain.base.has_value(); });
  };
  if (base_chains(current) != base_chains(desired)) return false;
  for (const Chain& chain : desired.chains) {
    if (!chain.base.has_value()) continue;
    const Chain* existing = have.chain(chain.name);
    if (existing == nullptr || existing->base != chain.base) return false;
  }
  for (const Set& set : desired.sets) {
    const Set* existing = have.set(set.name);
    if (existing == nullptr) continue;
    if (!SameShape(*existing, set) || (set.constant && !(*existing == set))) return false;
  }
  return true;
}

// Elements of `a` that are not in `b`; both canonical (SortedElements).
std::vector<Element> Missing(const std::vector<Element>& a, const std::vector<Element>& b) {
  std::vector<Element> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out), ElementLess);
  return out;
}

// The chains of `table` in an order where every chain comes after the chains it jumps or goes to.
// Rules replaced in this order never form a jump loop midway, since whatever a chain's new rules
// reach already has its new rules. FakeBackend refuses a loop after any operation (the kernel of
// this writing, 6.18, only at commit).
std::vector<const Chain*> CalleesFirst(const std::vector<const Chain*>& all,
                                       const ByName& chains) {
  std::vector<const Chain*> order;
  absl::flat_hash_set<absl::string_view> visited;
  const auto visit = [&](const Chain& chain, const auto& self) -> void {
    if (!visited.insert(chain.name).second) return;
    for (const Rule& rule : chain.rules) {
      for (const Statement& statement : rule.statements) {
        const auto* verdict = std::get_if<Verdict>(&statement);
        if (verdict == nullptr || verdict->chain.empty()) continue;
        if (const Chain* target = chains.chain(verdict->chain)) self(*target, self);
      }
    }
    order.push_back(&chain);
  };
  for (const Chain* chain : all) visit(*chain, visit);
  return order;
}

// DeleteElements for every kept set that lost elements, then AddElements for every one that
// gained some: all deletions first, so that a replaced interval never overlaps its successor.
void AddElementChanges(const std::vector<Set>& sets, const ByName& have, const TableId& id,
                       Transaction& transaction) {
  std::vector<Operation> additions;
  for (const Set& set : sets) {
    const Set* existing = have.set(set.name);
    if (existing == nullptr) continue;
    // Most sets are unchanged, usually element for element: one pass tells.
    if (existing->elements == set.elements) continue;
    std::vector<Element> scratch_have, scratch_want;
    const std::vector<Element>& present = CanonicalElements(existing->elements, scratch_have);
    const std::vector<Element>& wanted = CanonicalElements(set.elements, scratch_want);
    if (std::vector<Element> gone = Missing(present, wanted); !gone.empty()) {
      transaction.Add(DeleteElements{id, set.name, std::move(gone)});
    }
    if (std::vector<Element> added = Missing(wanted, present); !added.empty()) {
      additions.push_back(AddElements{id, set.name, std::move(added)});
    }
  }
  for (Operation& addition : additions) transaction.Add(std::move(addition));
}

}  // namespace

Transaction Plan(const std::optional<Table>& current, const Table& desired) {
  return Plan(current.has_value() ? &*current : nullptr, desired);
}

Transaction Plan(const Table* current, const Table& desired) {
  Transaction transaction;
  if (current == nullptr) {
    transaction.Add(ReplaceTable{Normalize(desired)});
    return transaction;
  }
  const ByName have(*current);
  if (!Incremental(*current, have, desired)) {
    transaction.Add(ReplaceTable{Normalize(desired)});
    return transaction;
  }
  // `current` is normalized (a dump, or a table applied before). Normalize only changes rules,
  // and a chain whose rules equal the current ones as they are needs no normalizing: only the
  // others are copied (copying every rule and element on each plan would cost more than the
  // plan itself).
  std::deque<Chain> normalized;
  std::vector<const Chain*> want;
  want.reserve(desired.chains.size());
  for (const Chain& chain : desired.chains) {
    const Chain* existing = have.chain(chain.name);
    if (existing != nullptr && existing->rules == chain.rules) {
      want.push_back(&chain);
      continue;
    }
    Chain& copy = normalized.emplace_back(Chain{chain.name, chain.base, {}});
    copy.rules.reserve(chain.rules.size());
    for (const Rule& rule : chain.rules) copy.rules.push_back(Normalize(rule));
    want.push_back(&copy);
  }
  const ByName wanted(want, desired.sets);
  const TableId id{desired.family, desired.name};
  // New sets and chains first: rules may refer to them.
  for (const Set& set : desired.sets) {
    if (have.set(set.name) == nullptr) transaction.Add(AddSet{id, set});
  }
  AddElementChanges(desired.sets, have, id, transaction);
  for (const Chain* chain : want) {
    if (have.chain(chain->name) == nullptr) {
      transaction.Add(AddChain{id, Chain{chain->name, std::nullopt, {}}});
    }
  }
  for (const Chain* chain : CalleesFirst(want, wanted)) {
    const Chain* existing = have.chain(chain->name);
    const bool changed =
        existing == nullptr ? !chain->rules.empty() : existing->rules != chain->rules;
    if (changed) transaction.Add(ReplaceChainRules{id, chain->name, chain->rules});
  }
  // Then what is gone, once nothing kept refers to it. Removed chains may jump to each other:
  // empty them all before deleting any.
  std::vector<std::string> removed;
  for (const Chain& chain : current->chains) {
    if (wanted.chain(chain.name) != nullptr) continue;
    if (!chain.rules.empty()) transaction.Add(ReplaceChainRules{id, chain.name, {}});
    removed.push_back(chain.name);
  }
  for (std::string& chain : removed) transaction.Add(DeleteChain{id, std::move(chain)});
  for (const Set& set : current->sets) {
    if (wanted.set(set.name) == nullptr) transaction.Add(DeleteSet{id, set.name});
  }
  return transaction;
}

}  // namespace weave::nft
