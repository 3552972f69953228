// Splits a watch stream (one JSON event per line, in pieces of any size) into WatchEvents. Pure:
// the transport feeds it, tests feed it text.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/kube/object.h"

namespace weave::kube {

class WatchDecoder {
 public:
  explicit WatchDecoder(size_t max_event_size = 32 << 20) : max_event_size_(max_event_size) {}

  // Appends the events completed by `piece` to `events`. InvalidArgument for a line that is not
  // {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": {...}} (events of the same piece
  // before it are appended), ResourceExhausted for an event over max_event_size. After an error
  // the decoder is not to be used again.
  absl::Status Feed(absl::string_view piece, std::vector<WatchEvent>& events);

  // At the end of the stream: Unavailable if it stopped in the middle of an event.
  absl::Status Finish() const;

 private:
  const size_t max_event_size_;
  std::string partial_;  // the start of an event whose end has not arrived
};

// One event line.
absl::StatusOr<WatchEvent> ParseWatchEvent(absl::string_view line);

}  // namespace weave::kube
