// How both backends word a refused change, so that callers and tests see the same errors from
// the kernel and from the fake. Internal to common/nft.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace weave::nft {

// "ENOENT", "EINVAL", ...; "errno 123" for a number without a name.
std::string ErrnoName(int error);

// absl::ErrnoToStatus(error, "<context>: <ENAME>"), e.g. NotFound("replacing table inet weave:
// rule 3 of chain forward: ENOENT: No such file or directory").
absl::Status KernelError(int error, absl::string_view context);

}  // namespace weave::nft
