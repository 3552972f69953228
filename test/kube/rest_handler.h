// The API's request handling apart from HTTP: discovery documents and the REST verbs on a Store
// (GET, LIST, CREATE, UPDATE, PATCH, DELETE), answered with a code and a JSON body. WATCH is
// opened here and streamed by WatchStream. Thread-safe (the Store is).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "test/kube/api_path.h"
#include "test/kube/store.h"

namespace weave::testing::kube {

struct RestRequest {
  std::string method;  // GET, POST, PUT, PATCH, DELETE
  std::string path;
  std::map<std::string, std::string> query;
  std::string content_type;
  std::string accept;
  std::string body;
};

struct RestResponse {
  int code = 200;
  nlohmann::json body;  // an object, a list, a discovery document or a Status
  // When set, sent instead of `body` with this content type (the protobuf OpenAPI v2 document).
  std::optional<std::pair<std::string, std::string>> raw;  // content type, bytes
};

// The answer for a failed request: the Status object with its HTTP code.
RestResponse FailureResponse(const absl::Status& status);

// A boolean query parameter as Go's strconv.ParseBool reads it: "1", "t", "true", "True"...
// (the Python client sends "True").
bool QueryFlag(const RestRequest& request, const std::string& key);

// Whether `request` is a WATCH (?watch=1 or true, or the /watch/ path form) of a served type.
bool IsWatch(const RestRequest& request);

// Answers everything but a WATCH. `server_address` ("127.0.0.1:6443") is for /api.
RestResponse HandleRest(Store& store, const RestRequest& request, absl::string_view server_address);

// Opens the watch that `request` asks for (labelSelector, fieldSelector, resourceVersion).
absl::StatusOr<std::unique_ptr<Watcher>> OpenWatch(Store& store, const RestRequest& request,
                                                   const ResourceType** type);

}  // namespace weave::testing::kube
