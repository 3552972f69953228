// An in-memory Backend that behaves like the kernel for everything this project does, so that
// compilers, planners and the router can be tested without root. Its dump is the test oracle:
// compare ListRuleset() or Dump() with goldens.
//
// Like the kernel it applies a transaction all-or-nothing, in order, and refuses (with the errno
// the kernel uses, worded like LinuxBackend's errors):
//   ENOENT      a missing table, chain, set or element; a jump/goto to a missing chain; a rule
//               using a missing set
//   EEXIST      AddChain/AddSet of an existing one; an interval overlapping a present one
//   EBUSY       deleting a chain something jumps to, or a set a rule uses; changing the elements
//               of a constant set that a rule uses
//   EOPNOTSUPP  a jump/goto to a base chain; masquerade reachable from other than a nat
//               postrouting chain
//   EMLINK      jumps that form a loop (what the kernel reports: its jump stack overflows)
//   EINVAL      a set lookup whose field does not suit the set's key type (the kernel only
//               compares key lengths, so it lets e.g. `meta mark @addresses` through; this fake is
//               stricter there)
// Values are validated as LinuxBackend validates them before sending (InvalidArgument).
// Dump returns tables normalized (see Normalize), elements sorted, rule handles numbered per
// table like the kernel's, counters at zero.
//
// Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/nft/backend.h"

namespace weave::nft {
namespace fake_internal {
struct StoredTable {
  Table table;
  uint64_t last_handle = 0;  // The kernel numbers sets, chains and rules per table.
};
}  // namespace fake_internal

class FakeBackend : public Backend {
 public:
  FakeBackend() = default;
  FakeBackend(const FakeBackend&) = delete;
  FakeBackend& operator=(const FakeBackend&) = delete;

  absl::Status Apply(const Transaction& transaction) override;
  absl::StatusOr<std::optional<Table>> Dump(Family family, absl::string_view name) override;

  // Every table as ToText prints it, in the order they were created: what `nft list ruleset`
  // would show.
  std::string ListRuleset() const;

  // The transactions applied successfully so far, oldest first (e.g. to check that pod churn
  // became element updates rather than table replacements).
  std::vector<Transaction> applied() const;

  // Makes the next Apply fail with `status` without changing anything.
  void FailNextApply(absl::Status status);

 private:
  mutable absl::Mutex mu_;
  std::vector<fake_internal::StoredTable> tables_ ABSL_GUARDED_BY(mu_);
  std::vector<Transaction> applied_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> fail_next_ ABSL_GUARDED_BY(mu_);
};

}  // namespace weave::nft
