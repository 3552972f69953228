// Pure decoding of what the kernel dumps back into the model: the inverse of encoder.h for every
// expression sequence the encoder (or nft, for the same statements) produces. Internal to
// common/nft.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/nft/ruleset.h"

struct nftnl_rule;

namespace weave::nft {

// The rule's statements (normalized, see Normalize), comment, counters and handle. A rule with an
// expression sequence the model cannot express comes back with no statements and `undecoded`
// holding libnftnl's text of it, never as an error.
Rule DecodeRule(const nftnl_rule& rule);

// One element as the kernel dumps it: key bytes, and whether it closes an interval.
struct RawElement {
  std::string key;
  bool interval_end = false;
};

// The elements of a set from its raw elements, in any order, repeats ignored. For an interval set,
// start and end elements are paired into CIDRs (a range that is not one CIDR becomes the fewest
// CIDRs covering it) or port ranges; an end without a start (nft adds one at 0) is skipped.
// InvalidArgument for keys of the wrong length.
absl::StatusOr<std::vector<Element>> DecodeElements(SetKeyType key_type, bool interval,
                                                    std::vector<RawElement> raw);

}  // namespace weave::nft
