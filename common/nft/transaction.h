// A Transaction: an ordered list of changes that a Backend applies all-or-nothing (one netlink
// batch; the kernel commits every change or none, and no packet sees a half-applied state).
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "common/nft/ruleset.h"

namespace weave::nft {

// Which table an operation addresses.
struct TableId {
  Family family = Family::kInet;
  std::string name;
  friend bool operator==(const TableId&, const TableId&) = default;
};

// Creates `table` with all its sets, elements, chains and rules, deleting any table of the same
// family and name first. Works whether or not the table exists.
struct ReplaceTable {
  Table table;
  friend bool operator==(const ReplaceTable&, const ReplaceTable&) = default;
};

// Deletes the table and everything in it; a table that does not exist is fine.
struct DeleteTable {
  TableId table;
  friend bool operator==(const DeleteTable&, const DeleteTable&) = default;
};

// Adds a set (with its elements) to an existing table; fails (AlreadyExists) if it exists.
struct AddSet {
  TableId table;
  Set set;
  friend bool operator==(const AddSet&, const AddSet&) = default;
};

// Deletes a set; fails if it is missing (NotFound) or a rule still refers to it.
struct DeleteSet {
  TableId table;
  std::string set;
  friend bool operator==(const DeleteSet&, const DeleteSet&) = default;
};

// Adds elements to a set; elements already present are fine (idempotent). Elements of an interval
// set must not overlap each other or present ones, unless equal to a present one.
struct AddElements {
  TableId table;
  std::string set;
  std::vector<Element> elements;
  friend bool operator==(const AddElements&, const AddElements&) = default;
};

// Removes elements from a set; fails (NotFound) if one is not in the set, as the kernel does.
struct DeleteElements {
  TableId table;
  std::string set;
  std::vector<Element> elements;
  friend bool operator==(const DeleteElements&, const DeleteElements&) = default;
};

// Adds a chain with its rules to an existing table; fails (AlreadyExists) if it exists.
struct AddChain {
  TableId table;
  Chain chain;
  friend bool operator==(const AddChain&, const AddChain&) = default;
};

// Deletes a chain and its rules; fails if it is missing or another rule still jumps to it.
struct DeleteChain {
  TableId table;
  std::string chain;
  friend bool operator==(const DeleteChain&, const DeleteChain&) = default;
};

// Flushes a chain's rules and adds `rules` in their place (no rules: just a flush).
struct ReplaceChainRules {
  TableId table;
  std::string chain;
  std::vector<Rule> rules;
  friend bool operator==(const ReplaceChainRules&, const ReplaceChainRules&) = default;
};

using Operation = std::variant<ReplaceTable, DeleteTable, AddSet, DeleteSet, AddElements,
                               DeleteElements, AddChain, DeleteChain, ReplaceChainRules>;

struct Transaction {
  std::vector<Operation> operations;

  Transaction& Add(Operation operation) {
    operations.push_back(std::move(operation));
    return *this;
  }
  bool empty() const { return operations.empty(); }
  friend bool operator==(const Transaction&, const Transaction&) = default;
};

// "replacing table inet weave", "adding 3 elements to set inet weave npc-ready", ...: the prefix
// of every error about the operation, from LinuxBackend and FakeBackend alike.
std::string Describe(const Operation& operation);

// "table inet weave".
std::string Describe(const TableId& table);

// The table an operation addresses.
TableId TargetTable(const Operation& operation);

// Checks every value in the transaction with the Validate* functions of ruleset.h; the error
// names the operation ("adding chain x to table inet weave: rule 2: ...").
absl::Status ValidateTransaction(const Transaction& transaction);

}  // namespace weave::nft
