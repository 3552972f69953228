// Plan: what to apply so that a table becomes what a compiler wants, as a pure function of values.
#pragma once

#include <optional>

#include "common/nft/ruleset.h"
#include "common/nft/transaction.h"

namespace weave::nft {

// The transaction that turns `current` (what Backend::Dump returned; nullopt for no table) into
// `desired`, compared in normalized form (see Normalize). Chains and sets are matched by name, not
// position: the kernel lists chains and sets in the order they were added, so a table changed step
// by step lists them in another order than the compiler's (compare with SameContent).
//  - empty when they already have the same content;
//  - when the table exists with the same base chains (names and settings) and every set that both
//    have keeps its shape (type, flags; a constant set also its elements), finer operations, in an
//    order the kernel accepts (nothing is referred to before it exists or deleted while in use):
//      1. AddSet for each new set, with its elements;
//      2. DeleteElements for each kept set that lost elements, then AddElements for each that
//         gained some (all deletions first, so that a replaced interval never overlaps its
//         successor);
//      3. AddChain, without rules, for each new regular chain;
//      4. ReplaceChainRules for each new chain with rules and each kept chain whose rules differ,
//         chains before the chains that jump to them (so that no jump loop forms midway);
//      5. for removed chains, ReplaceChainRules without rules for all of them (they may jump to
//         each other), then DeleteChain for each;
//      6. DeleteSet for each removed set.
//    This is what pod churn and policy changes produce: the base chains, and the chains and sets
//    that did not change, are never rebuilt;
//  - otherwise (no table, a base chain added, removed or changed, a set redefined, the elements of
//    a constant set changed): one ReplaceTable of the whole table.
// Every choice is atomic when applied, so no packet sees a half-updated table either way.
Transaction Plan(const Table* current, const Table& desired);  // null: no table
Transaction Plan(const std::optional<Table>& current, const Table& desired);

}  // namespace weave::nft
