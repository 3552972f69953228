#pragma once

#include <functional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace weave::testing {

// Polls `condition` until it returns true or `timeout` has passed. Tests wait with this instead of
// fixed sleeps: it returns as soon as the condition holds, and a slow machine only costs time.
// The back-off starts at 20 ms and grows to 200 ms; the condition is checked once more at the
// deadline, so a condition that is already true costs no sleep at all.
//
// Returns OK, or DeadlineExceeded naming `what` ("weaver on node 1 to listen on its socket").
// Runs `condition` on the calling thread.
absl::Status WaitFor(const std::function<bool()>& condition, absl::Duration timeout,
                     absl::string_view what);

}  // namespace weave::testing
