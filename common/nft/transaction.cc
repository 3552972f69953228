#include "common/nft/transaction.h"

#include <type_traits>

#include "absl/strings/str_cat.h"

namespace weave::nft {
namespace {

std::string Plural(size_t count, absl::string_view noun) {
  return absl::StrCat(count, " ", noun, count == 1 ? "" : "s");
}

absl::Status InOperation(const Operation& operation, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(Describe(operation), ": ", status.message()));
}

absl::Status ValidateRules(Family family, absl::string_view chain, const std::vector<Rule>& rules) {
  for (size_t i = 0; i < rules.size(); ++i) {
    absl::Status status = ValidateRule(family, rules[i]);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("rule ", i + 1, " of chain ", chain, ": ", status.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateOperation(const Operation& operation) {
  struct Visitor {
    absl::Status operator()(const ReplaceTable& op) const { return ValidateTable(op.table); }
    absl::Status operator()(const DeleteTable& op) const {
      return ValidateName(op.table.name, "table name");
    }
    absl::Status operator()(const AddSet& op) const { return ValidateSet(op.set); }
    absl::Status operator()(const DeleteSet& op) const { return ValidateName(op.set, "set name"); }
    // Elements are checked against the set's key type by the backend, which knows the set.
    absl::Status operator()(const AddElements& op) const {
      return ValidateName(op.set, "set name");
    }
    absl::Status operator()(const DeleteElements& op) const {
      return ValidateName(op.set, "set name");
    }
    absl::Status operator()(const AddChain& op) const {
      // A table holding just this chain gets the same checks as a whole table.
      return ValidateTable(Table{op.table.family, op.table.name, {op.chain}, {}});
    }
    absl::Status operator()(const DeleteChain& op) const {
      return ValidateName(op.chain, "chain name");
    }
    absl::Status operator()(const ReplaceChainRules& op) const {
      absl::Status status = ValidateName(op.chain, "chain name");
      if (!status.ok()) return status;
      return ValidateRules(op.table.family, op.chain, op.rules);
    }
  };
  absl::Status status = ValidateName(TargetTable(operation).name, "table name");
  if (!status.ok()) return status;
  return std::visit(Visitor{}, operation);
}

}  // namespace

std::string Describe(const TableId& table) {
  return absl::StrCat("table ", FamilyName(table.family), " ", table.name);
}

TableId TargetTable(const Operation& operation) {
  return std::visit(
      [](const auto& op) {
        if constexpr (std::is_same_v<std::decay_t<decltype(op)>, ReplaceTable>) {
          return TableId{op.table.family, op.table.name};
        } else {
          return op.table;
        }
      },
      operation);
}

std::string Describe(const Operation& operation) {
  struct Visitor {
    std::string operator()(const ReplaceTable& op) const {
      return absl::StrCat("replacing ", Describe(TableId{op.table.family, op.table.name}));
    }
    std::string operator()(const DeleteTable& op) const {
      return absl::StrCat("deleting ", Describe(op.table));
    }
    std::string operator()(const AddSet& op) const {
      return absl::StrCat("adding set ", op.set.name, " to ", Describe(op.table));
    }
    std::string operator()(const DeleteSet& op) const {
      return absl::StrCat("deleting set ", op.set, " from ", Describe(op.table));
    }
    std::string operator()(const AddElements& op) const {
      return absl::StrCat("adding ", Plural(op.elements.size(), "element"), " to set ", op.set,
                          " of ", Describe(op.table));
    }
    std::string operator()(const DeleteElements& op) const {
      return absl::StrCat("deleting ", Plural(op.elements.size(), "element"), " from set ", op.set,
                          " of ", Describe(op.table));
    }
    std::string operator()(const AddChain& op) const {
      return absl::StrCat("adding chain ", op.chain.name, " to ", Describe(op.table));
    }
    std::string operator()(const DeleteChain& op) const {
      return absl::StrCat("deleting chain ", op.chain, " from ", Describe(op.table));
    }
    std::string operator()(const ReplaceChainRules& op) const {
      return absl::StrCat("replacing the rules of chain ", op.chain, " of ", Describe(op.table));
    }
  };
  return std::visit(Visitor{}, operation);
}

absl::Status ValidateTransaction(const Transaction& transaction) {
  for (const Operation& operation : transaction.operations) {
    absl::Status status = InOperation(operation, ValidateOperation(operation));
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace weave::nft
