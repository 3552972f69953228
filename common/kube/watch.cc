// Client::Watch: a streamed GET ?watch=1 decoded into events as the pieces arrive.
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/kube/client.h"
#include "common/kube/errors.h"
#include "common/kube/path.h"
#include "common/kube/watch_decoder.h"

namespace weave::kube {

absl::Status Client::Watch(absl::string_view path, const WatchOptions& options,
                           const std::function<void(WatchEvent)>& on_event,
                           const absl::Notification* stop) {
  QueryParams params = {{"watch", "1"},
                        {"resourceVersion", options.resource_version},
                        {"allowWatchBookmarks", options.allow_bookmarks ? "true" : ""},
                        {"labelSelector", options.label_selector},
                        {"fieldSelector", options.field_selector}};
  if (options.timeout_seconds > 0) {
    params.emplace_back("timeoutSeconds", absl::StrCat(options.timeout_seconds));
  }
  Request request = NewRequest("GET", WithQuery(path, params));
  // Without timeoutSeconds the server picks 30 to 60 minutes.
  request.timeout =
      (options.timeout_seconds > 0 ? absl::Seconds(options.timeout_seconds) : absl::Hours(1)) +
      options_.watch_grace;
  const std::string context = Context("watching", path, request.path);

  WatchDecoder decoder(options_.max_event_size);
  absl::Status stream_error;
  std::vector<WatchEvent> events;
  auto sink = [&](absl::string_view piece) {
    events.clear();
    stream_error = decoder.Feed(piece, events);
    for (WatchEvent& event : events) {
      if (event.type == EventType::kError) {
        stream_error = WatchErrorEvent(context, event.object);
        return false;
      }
      if (stop != nullptr && stop->HasBeenNotified()) return false;
      on_event(std::move(event));
    }
    if (!stream_error.ok()) {
      stream_error =
          absl::Status(stream_error.code(), absl::StrCat(context, ": ", stream_error.message()));
    }
    return stream_error.ok();
  };
  absl::StatusOr<Response> response = Send(context, std::move(request), sink, stop);
  if (!response.ok()) return response.status();
  if (!stream_error.ok()) return stream_error;
  if (stop != nullptr && stop->HasBeenNotified()) {
    return absl::CancelledError(absl::StrCat(context, ": stopped"));
  }
  if (absl::Status end = decoder.Finish(); !end.ok()) {
    return absl::Status(end.code(), absl::StrCat(context, ": ", end.message()));
  }
  return absl::OkStatus();
}

}  // namespace weave::kube
