// Where rulesets go: the kernel (LinuxBackend) or memory (FakeBackend). Code above common/nft
// depends on this interface only, and is handed an implementation through its constructor.
#pragma once

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/nft/ruleset.h"
#include "common/nft/transaction.h"

namespace weave::nft {

class Backend {
 public:
  virtual ~Backend() = default;

  // Applies every operation of `transaction`, in order, or none of them: on error nothing has
  // changed and no packet saw part of the change. An empty transaction is OK and does nothing.
  // Errors name the operation and the part of it that failed, with the kernel's errno where there
  // is one: "replacing table inet weave: rule 3 of chain forward: ENOENT: No such file or
  // directory". Codes follow absl::ErrnoToStatus (ENOENT -> NotFound, EEXIST -> AlreadyExists,
  // EBUSY -> FailedPrecondition, EINVAL -> InvalidArgument, EOPNOTSUPP -> Unimplemented); values
  // that cannot be encoded at all are InvalidArgument before anything is sent.
  virtual absl::Status Apply(const Transaction& transaction) = 0;

  // The table as it is now: chains with their base chain settings and rules (normalized, with
  // kernel handles and counter values), sets with their elements; nullopt if there is no such
  // table. A rule the model cannot express comes back with Rule::undecoded set.
  virtual absl::StatusOr<std::optional<Table>> Dump(Family family, absl::string_view name) = 0;
};

}  // namespace weave::nft
