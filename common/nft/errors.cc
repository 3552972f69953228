#include "common/nft/errors.h"

#include <string.h>

#include "absl/strings/str_cat.h"

namespace weave::nft {

std::string ErrnoName(int error) {
  const char* name = strerrorname_np(error);
  return name != nullptr ? name : absl::StrCat("errno ", error);
}

absl::Status KernelError(int error, absl::string_view context) {
  return absl::ErrnoToStatus(error, absl::StrCat(context, ": ", ErrnoName(error)));
}

}  // namespace weave::nft
