// The values the Kubernetes API client deals in: objects as JSON, lists, watch events, and safe
// accessors for the fields every object has. Accessors never throw and never crash on objects of
// the wrong shape (a server or a user can send anything): a missing or non-string field reads as
// "".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace weave::kube {

using Json = nlohmann::json;

enum class EventType { kAdded, kModified, kDeleted, kBookmark, kError };

// "ADDED" -> kAdded, ...; nullopt for anything else.
std::optional<EventType> ParseEventType(absl::string_view text);
absl::string_view EventTypeName(EventType type);

struct WatchEvent {
  EventType type = EventType::kAdded;
  Json object;  // for kError, a meta/v1 Status
};

// The items of a LIST and the resourceVersion to watch from.
struct ObjectList {
  std::string resource_version;
  std::vector<Json> items;
};

struct ListOptions {
  std::string label_selector;    // "app=weave-net"; empty: all
  std::string field_selector;    // "spec.nodeName=node-1"; empty: all
  std::string resource_version;  // empty: the latest (a quorum read)
  int page_size = 0;             // limit= per request, following continue tokens; 0: one request
};

struct WatchOptions {
  std::string resource_version;  // from a LIST or the last event; empty: from "now"
  std::string label_selector;
  std::string field_selector;
  int64_t timeout_seconds = 300;  // the server ends the watch after this; 0: the server's choice
  bool allow_bookmarks = true;
};

// The string at `path` (e.g. {"metadata", "name"}); "" if absent or not a string.
std::string StringAt(const Json& object, std::initializer_list<const char*> path);

std::string NameOf(const Json& object);             // metadata.name
std::string NamespaceOf(const Json& object);        // metadata.namespace
std::string ResourceVersionOf(const Json& object);  // metadata.resourceVersion

// "namespace/name" for namespaced objects, "name" for cluster-scoped ones; InvalidArgument if the
// object has no metadata.name.
absl::StatusOr<std::string> ObjectKey(const Json& object);

// Parses JSON text; InvalidArgument with the parser's one-line reason otherwise.
absl::StatusOr<Json> ParseJson(absl::string_view text);

// Compact JSON text; invalid UTF-8 in strings is replaced rather than thrown on.
std::string DumpJson(const Json& value);

}  // namespace weave::kube
