// Plan: what to apply so that a table becomes what a compiler wants, as a pure function of values.
#pragma once

#include <optional>

#include "common/nft/ruleset.h"
#include "common/nft/transaction.h"

namespace weave::nft {

// The transaction that turns `current` (what Backend::Dump returned; nullopt for no table) into
// `desired`, compared in normalized form (see Normalize):
//  - empty when they are already equal;
//  - when both have the same sets (names, types, flags) and the same chains (names, base
//    settings) in the same order: DeleteElements then AddElements for each set whose elements
//    differ, and ReplaceChainRules for each chain whose rules differ. This is what pod churn
//    produces: element updates, no chain is rebuilt;
//  - otherwise (a chain or set added, removed, reordered or redefined; the elements of a constant
//    set changed): one ReplaceTable of the whole table.
// Every choice is atomic when applied, so no packet sees a half-updated table either way.
Transaction Plan(const std::optional<Table>& current, const Table& desired);

}  // namespace weave::nft
