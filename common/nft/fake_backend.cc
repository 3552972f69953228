#include "common/nft/fake_backend.h"

#include <errno.h>

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/nft/errors.h"
#include "common/status_macros.h"

namespace weave::nft {
namespace {

using fake_internal::StoredTable;

absl::Status Refused(int error, absl::string_view what, absl::string_view detail) {
  const absl::Status status = KernelError(error, what);
  return absl::Status(status.code(), absl::StrCat(status.message(), " (", detail, ")"));
}

std::string RuleWhat(size_t index, absl::string_view chain) {
  return absl::StrCat("rule ", index + 1, " of chain ", chain);
}

bool UsesSet(const Table& table, absl::string_view set) {
  for (const Chain& chain : table.chains) {
    for (const Rule& rule : chain.rules) {
      for (const Statement& statement : rule.statements) {
        const auto* match = std::get_if<Match>(&statement);
        if (match == nullptr) continue;
        const auto* ref = std::get_if<SetRef>(&match->value);
        if (ref != nullptr && ref->name == set) return true;
      }
    }
  }
  return false;
}

// The chains a chain's rules jump or go to.
std::vector<std::string> Targets(const Chain& chain) {
  std::vector<std::string> out;
  for (const Rule& rule : chain.rules) {
    for (const Statement& statement : rule.statements) {
      const auto* verdict = std::get_if<Verdict>(&statement);
      if (verdict != nullptr && !verdict->chain.empty()) out.push_back(verdict->chain);
    }
  }
  return out;
}

// Every chain reachable from `start` (itself included) by jumps and gotos.
absl::flat_hash_set<std::string> Reachable(const Table& table, const std::string& start) {
  absl::flat_hash_set<std::string> seen = {start};
  std::vector<std::string> todo = {start};
  while (!todo.empty()) {
    const Chain* chain = table.FindChain(todo.back());
    todo.pop_back();
    if (chain == nullptr) continue;
    for (std::string& target : Targets(*chain)) {
      if (seen.insert(target).second) todo.push_back(std::move(target));
    }
  }
  return seen;
}

absl::Status CheckRule(const Table& table, const Chain& chain, size_t index) {
  const std::string what = RuleWhat(index, chain.name);
  for (const Statement& statement : chain.rules[index].statements) {
    if (const auto* match = std::get_if<Match>(&statement)) {
      const auto* ref = std::get_if<SetRef>(&match->value);
      if (ref == nullptr) continue;
      const Set* set = table.FindSet(ref->name);
      if (set == nullptr) return Refused(ENOENT, what, absl::StrCat("no set ", ref->name));
      if (KeyTypeOf(match->field) != set->key_type) {
        return Refused(EINVAL, what,
                       absl::StrCat("set ", set->name, " holds ", SetKeyTypeName(set->key_type)));
      }
    } else if (const auto* verdict = std::get_if<Verdict>(&statement)) {
      if (verdict->chain.empty()) continue;
      const Chain* target = table.FindChain(verdict->chain);
      if (target == nullptr)
        return Refused(ENOENT, what, absl::StrCat("no chain ", verdict->chain));
      if (target->base.has_value()) {
        return Refused(EOPNOTSUPP, what, absl::StrCat("chain ", target->name, " is a base chain"));
      }
    }
  }
  return absl::OkStatus();
}

bool HasMasquerade(const Chain& chain) {
  for (const Rule& rule : chain.rules) {
    for (const Statement& statement : rule.statements) {
      if (std::holds_alternative<Masquerade>(statement)) return true;
    }
  }
  return false;
}

// What the kernel checks when it validates the table at commit: no jump loops, and NAT only
// where it can run.
absl::Status CheckTable(const Table& table) {
  for (const Chain& chain : table.chains) {
    for (const std::string& target : Targets(chain)) {
      if (Reachable(table, target).contains(chain.name)) {
        return Refused(EMLINK, absl::StrCat("chain ", chain.name),
                       absl::StrCat("jumps from chain ", chain.name, " loop back to it"));
      }
    }
  }
  for (const Chain& base : table.chains) {
    if (!base.base.has_value()) continue;
    const bool nat_postrouting =
        base.base->type == ChainType::kNat && base.base->hook == Hook::kPostrouting;
    if (nat_postrouting) continue;
    for (const std::string& name : Reachable(table, base.name)) {
      const Chain* chain = table.FindChain(name);
      if (chain != nullptr && HasMasquerade(*chain)) {
        return Refused(EOPNOTSUPP, absl::StrCat("chain ", name),
                       absl::StrCat("masquerade reachable from chain ", base.name,
                                    ", which is not a nat postrouting chain"));
      }
    }
  }
  return absl::OkStatus();
}

// A rule as the kernel would store and dump it.
Rule Stored(Rule rule, uint64_t handle) {
  rule = Normalize(std::move(rule));
  rule.handle = handle;
  for (Statement& statement : rule.statements) {
    if (auto* counter = std::get_if<Counter>(&statement)) *counter = Counter{};
  }
  return rule;
}

// First and last value of an element of an interval set, as numbers.
std::pair<uint64_t, uint64_t> Span(const Element& element) {
  if (const auto* cidr = std::get_if<net::Cidr>(&element)) {
    return {cidr->network().value(), cidr->last().value()};
  }
  const auto& range = std::get<PortRange>(element);
  return {range.first, range.last};
}

class Applier {
 public:
  explicit Applier(std::vector<StoredTable>& tables) : tables_(tables) {}

  absl::Status Apply(const Operation& operation) {
    return std::visit([this](const auto& op) { return Do(op); }, operation);
  }

 private:
  StoredTable* Find(const TableId& id) {
    for (StoredTable& stored : tables_) {
      if (stored.table.family == id.family && stored.table.name == id.name) return &stored;
    }
    return nullptr;
  }

  absl::StatusOr<StoredTable*> Existing(const TableId& id) {
    StoredTable* stored = Find(id);
    if (stored == nullptr) return Refused(ENOENT, Describe(id), "no such table");
    return stored;
  }

  static absl::StatusOr<Set*> ExistingSet(StoredTable& stored, absl::string_view name) {
    Set* set = stored.table.FindSet(name);
    if (set == nullptr) return Refused(ENOENT, absl::StrCat("set ", name), "no such set");
    return set;
  }

  static absl::Status AddRules(StoredTable& stored, Chain& chain, std::vector<Rule> rules) {
    for (Rule& rule : rules) {
      chain.rules.push_back(Stored(std::move(rule), ++stored.last_handle));
      RETURN_IF_ERROR(CheckRule(stored.table, chain, chain.rules.size() - 1));
    }
    return absl::OkStatus();
  }

  void Erase(const TableId& id) {
    tables_.erase(std::remove_if(tables_.begin(), tables_.end(),
                                 [&](const StoredTable& stored) {
                                   return stored.table.family == id.family &&
                                          stored.table.name == id.name;
                                 }),
                  tables_.end());
  }

  absl::Status Do(const ReplaceTable& op) {
    Erase(TableId{op.table.family, op.table.name});
    StoredTable fresh;
    fresh.table = Table{op.table.family, op.table.name, {}, op.table.sets};
    for (Set& set : fresh.table.sets) {
      set.elements = SortedElements(std::move(set.elements));
      ++fresh.last_handle;
    }
    for (const Chain& chain : op.table.chains) {
      fresh.table.chains.push_back(Chain{chain.name, chain.base, {}});
      ++fresh.last_handle;
    }
    for (size_t i = 0; i < op.table.chains.size(); ++i) {
      RETURN_IF_ERROR(AddRules(fresh, fresh.table.chains[i], op.table.chains[i].rules));
    }
    RETURN_IF_ERROR(CheckTable(fresh.table));
    tables_.push_back(std::move(fresh));
    return absl::OkStatus();
  }

  absl::Status Do(const DeleteTable& op) {
    Erase(op.table);
    return absl::OkStatus();
  }

  absl::Status Do(const AddSet& op) {
    ASSIGN_OR_RETURN(StoredTable * stored, Existing(op.table));
    if (stored->table.FindSet(op.set.name) != nullptr) {
      return Refused(EEXIST, absl::StrCat("set ", op.set.name), "the set exists");
    }
    Set set = op.set;
    set.elements = SortedElements(std::move(set.elements));
    stored->table.sets.push_back(std::move(set));
    ++stored->last_handle;
    return absl::OkStatus();
  }

  absl::Status Do(const DeleteSet& op) {
    ASSIGN_OR_RETURN(StoredTable * stored, Existing(op.table));
    ASSIGN_OR_RETURN(Set * set, ExistingSet(*stored, op.set));
    if (UsesSet(stored->table, set->name)) {
      return Refused(EBUSY, absl::StrCat("set ", op.set), "a rule uses the set");
    }
    std::vector<Set>& sets = stored->table.sets;
    sets.erase(sets.begin() + (set - sets.data()));
    return absl::OkStatus();
  }

  // Common checks of element changes; returns the set.
  absl::StatusOr<Set*> ElementTarget(const TableId& table, const std::string& set_name,
                                     const std::vector<Element>& elements) {
    ASSIGN_OR_RETURN(StoredTable * stored, Existing(table));
    ASSIGN_OR_RETURN(Set * set, ExistingSet(*stored, set_name));
    RETURN_IF_ERROR(ValidateElements(*set, elements));
    if (set->constant && UsesSet(stored->table, set->name)) {
      return Refused(EBUSY, absl::StrCat("elements of set ", set_name),
                     "the set is constant and in use");
    }
    return set;
  }

  absl::Status Do(const AddElements& op) {
    ASSIGN_OR_RETURN(Set * set, ElementTarget(op.table, op.set, op.elements));
    for (const Element& element : op.elements) {
      const bool present =
          std::find(set->elements.begin(), set->elements.end(), element) != set->elements.end();
      if (present) continue;
      if (set->interval) {
        const auto [first, last] = Span(element);
        for (const Element& other : set->elements) {
          const auto [other_first, other_last] = Span(other);
          if (first <= other_last && other_first <= last) {
            return Refused(EEXIST, absl::StrCat("elements of set ", op.set),
                           absl::StrCat(ToText(element), " overlaps ", ToText(other)));
          }
        }
      }
      set->elements.push_back(element);
    }
    set->elements = SortedElements(std::move(set->elements));
    return absl::OkStatus();
  }

  absl::Status Do(const DeleteElements& op) {
    ASSIGN_OR_RETURN(Set * set, ElementTarget(op.table, op.set, op.elements));
    std::vector<Element> remaining = set->elements;
    for (const Element& element : op.elements) {
      const auto it = std::find(remaining.begin(), remaining.end(), element);
      if (it == remaining.end()) {
        return Refused(ENOENT, absl::StrCat("elements of set ", op.set),
                       absl::StrCat(ToText(element), " is not in the set"));
      }
      remaining.erase(it);
    }
    set->elements = std::move(remaining);
    return absl::OkStatus();
  }

  absl::Status Do(const AddChain& op) {
    ASSIGN_OR_RETURN(StoredTable * stored, Existing(op.table));
    if (stored->table.FindChain(op.chain.name) != nullptr) {
      return Refused(EEXIST, absl::StrCat("chain ", op.chain.name), "the chain exists");
    }
    stored->table.chains.push_back(Chain{op.chain.name, op.chain.base, {}});
    ++stored->last_handle;
    RETURN_IF_ERROR(AddRules(*stored, stored->table.chains.back(), op.chain.rules));
    return CheckTable(stored->table);
  }

  absl::Status Do(const DeleteChain& op) {
    ASSIGN_OR_RETURN(StoredTable * stored, Existing(op.table));
    std::vector<Chain>& chains = stored->table.chains;
    const auto it = std::find_if(chains.begin(), chains.end(),
                                 [&](const Chain& chain) { return chain.name == op.chain; });
    if (it == chains.end())
      return Refused(ENOENT, absl::StrCat("chain ", op.chain), "no such chain");
    for (const Chain& other : chains) {
      if (other.name == op.chain) continue;
      const std::vector<std::string> targets = Targets(other);
      if (std::find(targets.begin(), targets.end(), op.chain) != targets.end()) {
        return Refused(EBUSY, absl::StrCat("chain ", op.chain),
                       absl::StrCat("chain ", other.name, " jumps to it"));
      }
    }
    chains.erase(it);
    return absl::OkStatus();
  }

  absl::Status Do(const ReplaceChainRules& op) {
    ASSIGN_OR_RETURN(StoredTable * stored, Existing(op.table));
    Chain* chain = stored->table.FindChain(op.chain);
    if (chain == nullptr) return Refused(ENOENT, absl::StrCat("chain ", op.chain), "no such chain");
    chain->rules.clear();
    RETURN_IF_ERROR(AddRules(*stored, *chain, op.rules));
    return CheckTable(stored->table);
  }

  std::vector<StoredTable>& tables_;
};

}  // namespace

absl::Status FakeBackend::Apply(const Transaction& transaction) {
  absl::MutexLock lock(&mu_);
  if (fail_next_.has_value()) {
    const absl::Status status = *std::move(fail_next_);
    fail_next_.reset();
    return status;
  }
  RETURN_IF_ERROR(ValidateTransaction(transaction));
  std::vector<StoredTable> work = tables_;
  Applier applier(work);
  for (const Operation& operation : transaction.operations) {
    const absl::Status status = applier.Apply(operation);
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat(Describe(operation), ": ", status.message()));
    }
  }
  tables_ = std::move(work);
  if (!transaction.empty()) applied_.push_back(transaction);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Table>> FakeBackend::Dump(Family family, absl::string_view name) {
  absl::MutexLock lock(&mu_);
  for (const StoredTable& stored : tables_) {
    if (stored.table.family == family && stored.table.name == name) return stored.table;
  }
  return std::nullopt;
}

std::string FakeBackend::ListRuleset() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const StoredTable& stored : tables_) absl::StrAppend(&out, ToText(stored.table));
  return out;
}

std::vector<Transaction> FakeBackend::applied() const {
  absl::MutexLock lock(&mu_);
  return applied_;
}

void FakeBackend::FailNextApply(absl::Status status) {
  absl::MutexLock lock(&mu_);
  fail_next_ = std::move(status);
}

}  // namespace weave::nft
