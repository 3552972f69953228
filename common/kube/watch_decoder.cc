#include "common/kube/watch_decoder.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/kube/errors.h"
#include "common/status_macros.h"

namespace weave::kube {

absl::StatusOr<WatchEvent> ParseWatchEvent(absl::string_view line) {
  absl::StatusOr<Json> parsed = ParseJson(line);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a watch event: ", parsed.status().message()));
  }
  std::string type_name = StringAt(*parsed, {"type"});
  std::optional<EventType> type = ParseEventType(type_name);
  if (!type) {
    return absl::InvalidArgumentError(absl::StrCat(
        "not a watch event (type \"", OneLine(type_name, 40), "\"): ", OneLine(line, 100)));
  }
  auto object = parsed->find("object");
  if (object == parsed->end() || !object->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("watch event ", type_name, " without an object: ", OneLine(line, 100)));
  }
  return WatchEvent{*type, std::move(*object)};
}

absl::Status WatchDecoder::Feed(absl::string_view piece, std::vector<WatchEvent>& events) {
  while (!piece.empty()) {
    size_t newline = piece.find('\n');
    if (newline == absl::string_view::npos) {
      partial_.append(piece.data(), piece.size());
      break;
    }
    partial_.append(piece.data(), newline);
    piece.remove_prefix(newline + 1);
    if (partial_.size() > max_event_size_) break;
    if (!absl::StripAsciiWhitespace(partial_).empty()) {
      ASSIGN_OR_RETURN(WatchEvent event, ParseWatchEvent(partial_));
      events.push_back(std::move(event));
    }
    partial_.clear();
  }
  if (partial_.size() > max_event_size_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("watch event larger than ", max_event_size_, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status WatchDecoder::Finish() const {
  if (absl::StripAsciiWhitespace(partial_).empty()) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("the watch stream ended in the middle of an event: ", OneLine(partial_, 100)));
}

}  // namespace weave::kube
