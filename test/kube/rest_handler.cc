#include "test/kube/rest_handler.h"

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "test/kube/api_error.h"
#include "test/kube/openapi.h"

namespace weave::testing::kube {

using nlohmann::json;

namespace {

std::string Query(const RestRequest& request, const std::string& key) {
  auto it = request.query.find(key);
  return it == request.query.end() ? "" : it->second;
}

RestResponse Answer(const absl::StatusOr<json>& result, int code = 200) {
  if (!result.ok()) return FailureResponse(result.status());
  return {code, *result};
}

// The discovery documents, or null when `path` is none.
json Discovery(const std::string& path, absl::string_view server_address) {
  if (path == "/api") return CoreApiVersions(server_address);
  if (path == "/openapi/v3") return OpenApiV3Root();
  if (absl::StartsWith(path, "/openapi/v3/")) {
    return OpenApiV3Document(absl::string_view(path).substr(strlen("/openapi/v3/")));
  }
  if (path == "/apis") return ApiGroupList();
  if (path == "/version") return VersionInfo();
  std::vector<std::string> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
  if (parts.size() == 2 && parts[0] == "api") return ApiResourceList("", parts[1]);
  if (parts.size() == 2 && parts[0] == "apis") return ApiGroup(parts[1]);
  if (parts.size() == 3 && parts[0] == "apis") return ApiResourceList(parts[1], parts[2]);
  return nullptr;
}

absl::StatusOr<json> ParseBody(const RestRequest& request) {
  if (request.body.empty()) return json();
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded()) {
    return BadRequestError("the request body is not valid JSON (only JSON is accepted)");
  }
  return body;
}

template <typename Selector, typename... Args>
absl::Status ParseSelector(const RestRequest& request, const char* key, Selector* out,
                           const Args&... args) {
  absl::StatusOr<Selector> parsed = Selector::Parse(Query(request, key), args...);
  if (!parsed.ok()) return parsed.status();
  *out = *std::move(parsed);
  return absl::OkStatus();
}

absl::StatusOr<json> HandleList(Store& store, const ApiPath& api, const RestRequest& request) {
  ListOptions options;
  if (absl::Status s = ParseSelector(request, "labelSelector", &options.labels); !s.ok()) return s;
  if (absl::Status s = ParseSelector(request, "fieldSelector", &options.fields, *api.type);
      !s.ok()) {
    return s;
  }
  options.resource_version = Query(request, "resourceVersion");
  options.resource_version_match = Query(request, "resourceVersionMatch");
  options.continue_token = Query(request, "continue");
  if (const std::string limit = Query(request, "limit");
      !limit.empty() && !absl::SimpleAtoi(limit, &options.limit)) {
    return BadRequestError(absl::StrCat("invalid limit: ", limit));
  }
  return store.List(*api.type, api.ns, options);
}

// A deletion's answer: the object for types whose deletion the real server answers with it,
// a Status "Success" for the others.
json DeletedAnswer(const ResourceType& type, const json& object) {
  if (type.kind == "Pod" || type.kind == "Namespace") return object;
  json details = {{"name", object["metadata"]["name"]},
                  {"kind", type.plural},
                  {"uid", object["metadata"]["uid"]}};
  if (!type.group.empty()) details["group"] = type.group;
  return {{"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", json::object()},
          {"status", "Success"},
          {"details", details}};
}

RestResponse HandleResource(Store& store, const ApiPath& api, const RestRequest& request) {
  if (!Query(request, "dryRun").empty()) {
    return FailureResponse(BadRequestError("dryRun is not supported by the fake API server"));
  }
  const bool status_only = api.subresource == "status";
  const std::string& method = request.method;
  if (api.name.empty()) {
    if (method == "GET") return Answer(HandleList(store, api, request));
    if (method == "POST") {
      if (api.type->namespaced && api.ns.empty()) {
        return FailureResponse(
            ApiError(405, "MethodNotAllowed",
                     "the server does not allow this method on the requested resource"));
      }
      absl::StatusOr<json> body = ParseBody(request);
      if (!body.ok()) return FailureResponse(body.status());
      return Answer(store.Create(*api.type, api.ns, *std::move(body)), 201);
    }
  } else {
    if (method == "GET") return Answer(store.Get(*api.type, api.ns, api.name));
    if (method == "PUT") {
      absl::StatusOr<json> body = ParseBody(request);
      if (!body.ok()) return FailureResponse(body.status());
      return Answer(store.Update(*api.type, api.ns, api.name, *std::move(body), status_only));
    }
    if (method == "PATCH") {
      return Answer(store.Patch(*api.type, api.ns, api.name, request.content_type, request.body,
                                status_only));
    }
    if (method == "DELETE" && !status_only) {
      absl::StatusOr<json> body = ParseBody(request);
      if (!body.ok()) return FailureResponse(body.status());
      absl::StatusOr<json> deleted = store.Delete(*api.type, api.ns, api.name, *body);
      if (!deleted.ok()) return FailureResponse(deleted.status());
      return {200, DeletedAnswer(*api.type, *deleted)};
    }
  }
  return FailureResponse(ApiError(
      405, "MethodNotAllowed", "the server does not allow this method on the requested resource"));
}

}  // namespace

RestResponse FailureResponse(const absl::Status& status) {
  return {HttpCode(status), StatusObject(status), std::nullopt};
}

bool QueryFlag(const RestRequest& request, const std::string& key) {
  const std::string value = Query(request, key);
  for (const char* yes : {"1", "t", "T", "true", "TRUE", "True"}) {
    if (value == yes) return true;
  }
  return false;
}

bool IsWatch(const RestRequest& request) {
  if (request.method != "GET") return false;
  absl::StatusOr<ApiPath> api = ParseApiPath(request.path);
  return api.ok() && (api->legacy_watch || QueryFlag(request, "watch"));
}

RestResponse HandleRest(Store& store, const RestRequest& request,
                        absl::string_view server_address) {
  if (request.method == "GET" && request.path == "/openapi/v2") {
    if (absl::StrContains(request.accept, "protobuf")) {
      // The empty openapi_v2.Document: a protobuf message with no fields set is no bytes. The
      // content type is kube-openapi's (Go cannot parse the "@" of the one asked for).
      return {200, nullptr, std::make_pair("application/octet-stream", "")};
    }
    return {200, OpenApiV2Json()};
  }
  if (request.method == "GET") {
    if (json document = Discovery(request.path, server_address); !document.is_null()) {
      return {200, document};
    }
  }
  absl::StatusOr<ApiPath> api = ParseApiPath(request.path);
  if (!api.ok()) return FailureResponse(api.status());
  return HandleResource(store, *api, request);
}

absl::StatusOr<std::unique_ptr<Watcher>> OpenWatch(Store& store, const RestRequest& request,
                                                   const ResourceType** type) {
  absl::StatusOr<ApiPath> api = ParseApiPath(request.path);
  if (!api.ok()) return api.status();
  WatchOptions options;
  if (absl::Status s = ParseSelector(request, "labelSelector", &options.labels); !s.ok()) return s;
  // A watch of one object (the old /watch/namespaces/ns/pods/name form) is the collection's
  // watch with a metadata.name field selector, as the real server treats it.
  std::string fields = Query(request, "fieldSelector");
  if (!api->name.empty()) {
    fields = absl::StrCat("metadata.name=", api->name, fields.empty() ? "" : ",", fields);
  }
  absl::StatusOr<FieldSelector> field_selector = FieldSelector::Parse(fields, *api->type);
  if (!field_selector.ok()) return field_selector.status();
  options.fields = *std::move(field_selector);
  options.resource_version = Query(request, "resourceVersion");
  options.send_initial_events = QueryFlag(request, "sendInitialEvents");
  *type = api->type;
  return store.Watch(*api->type, api->ns, std::move(options));
}

}  // namespace weave::testing::kube
