#include "common/nft/plan.h"

#include <algorithm>
#include <iterator>

namespace weave::nft {
namespace {

bool SameShape(const Set& a, const Set& b) {
  return a.name == b.name && a.key_type == b.key_type && a.interval == b.interval &&
         a.constant == b.constant;
}

// Whether element and rule updates can turn `current` into `desired`.
bool Incremental(const Table& current, const Table& desired) {
  if (current.family != desired.family || current.name != desired.name ||
      current.sets.size() != desired.sets.size() ||
      current.chains.size() != desired.chains.size()) {
    return false;
  }
  for (size_t i = 0; i < desired.sets.size(); ++i) {
    const Set& have = current.sets[i];
    const Set& want = desired.sets[i];
    if (!SameShape(have, want) || (want.constant && !(have == want))) return false;
  }
  for (size_t i = 0; i < desired.chains.size(); ++i) {
    if (current.chains[i].name != desired.chains[i].name ||
        current.chains[i].base != desired.chains[i].base) {
      return false;
    }
  }
  return true;
}

// Elements of `a` that are not in `b`; both sorted (SortedElements).
std::vector<Element> Missing(const std::vector<Element>& a, const std::vector<Element>& b) {
  std::vector<Element> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out), ElementLess);
  return out;
}

}  // namespace

Transaction Plan(const std::optional<Table>& current, const Table& desired) {
  const Table want = Normalize(desired);
  Transaction transaction;
  if (!current.has_value() || !Incremental(*current, want)) {
    transaction.Add(ReplaceTable{want});
    return transaction;
  }
  const TableId id{want.family, want.name};
  std::vector<Operation> additions;
  for (size_t i = 0; i < want.sets.size(); ++i) {
    const std::vector<Element> have = SortedElements(current->sets[i].elements);
    const std::vector<Element> wanted = SortedElements(want.sets[i].elements);
    // Deletions go first so that a replaced interval never overlaps its successor.
    if (std::vector<Element> gone = Missing(have, wanted); !gone.empty()) {
      transaction.Add(DeleteElements{id, want.sets[i].name, std::move(gone)});
    }
    if (std::vector<Element> added = Missing(wanted, have); !added.empty()) {
      additions.push_back(AddElements{id, want.sets[i].name, std::move(added)});
    }
  }
  for (Operation& addition : additions) transaction.Add(std::move(addition));
  for (size_t i = 0; i < want.chains.size(); ++i) {
    if (current->chains[i].rules != want.chains[i].rules) {
      transaction.Add(ReplaceChainRules{id, want.chains[i].name, want.chains[i].rules});
    }
  }
  return transaction;
}

}  // namespace weave::nft
