#include "common/kube/client.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/kube/curl_transport.h"
#include "common/kube/errors.h"
#include "common/kube/path.h"
#include "common/status_macros.h"

namespace weave::kube {

namespace {

constexpr char kJson[] = "application/json";
constexpr char kMergePatch[] = "application/merge-patch+json";

// `status` with another message (its code and payloads kept).
absl::Status Reworded(const absl::Status& status, absl::string_view message) {
  absl::Status out(status.code(), message);
  status.ForEachPayload(
      [&out](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

absl::Status WithContext(const absl::Status& status, absl::string_view context) {
  return Reworded(status, absl::StrCat(context, ": ", status.message()));
}

bool HasControlCharacters(absl::string_view text) {
  for (char c : text) {
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

std::string ChildPath(absl::string_view collection, const Json& object) {
  std::string name = NameOf(object);
  return name.empty() ? std::string(collection) : absl::StrCat(collection, "/", name);
}

}  // namespace

Client::Client(std::unique_ptr<Transport> transport, std::shared_ptr<TokenSource> token,
               ClientOptions options)
    : transport_(std::move(transport)), token_(std::move(token)), options_(options) {}

std::string Client::Context(absl::string_view verb, absl::string_view described,
                            absl::string_view request_path) const {
  return absl::StrCat(verb, " ", DescribePath(described), ": ", server(), request_path);
}

absl::StatusOr<Response> Client::Send(absl::string_view context, Request request,
                                      const BodySink& sink, const absl::Notification* stop) {
  const size_t base_headers = request.headers.size();
  absl::StatusOr<Response> response;
  std::string sent_token;
  for (int attempt = 0; attempt < 2; ++attempt) {
    request.headers.resize(base_headers);
    if (token_ != nullptr) {
      absl::StatusOr<std::string> token = token_->Token();
      if (!token.ok()) return WithContext(token.status(), context);
      if (attempt > 0 && *token == sent_token) break;  // no newer token to try
      if (HasControlCharacters(*token)) {
        return absl::FailedPreconditionError(
            absl::StrCat(context, ": the bearer token has control characters"));
      }
      sent_token = *token;
      request.headers.emplace_back("Authorization", absl::StrCat("Bearer ", *token));
    }
    response = transport_->RoundTrip(request, sink, stop);
    if (!response.ok()) return WithContext(response.status(), context);
    if (response->status != 401 || token_ == nullptr) break;
    token_->Invalidate();  // rotated since it was read?
  }
  if (response->status / 100 != 2) return ApiError(context, response->status, response->body);
  return response;
}

absl::StatusOr<Json> Client::SendForObject(absl::string_view context, Request request) {
  ASSIGN_OR_RETURN(Response response, Send(context, std::move(request), nullptr, nullptr));
  absl::StatusOr<Json> object = ParseJson(response.body);
  if (!object.ok()) return WithContext(object.status(), context);
  if (!object->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": the answer is not a JSON object"));
  }
  return object;
}

Request Client::NewRequest(absl::string_view method, std::string path) const {
  Request request;
  request.method = std::string(method);
  request.path = std::move(path);
  request.timeout = options_.request_timeout;
  return request;
}

Request Client::NewRequest(absl::string_view method, std::string path,
                           absl::string_view content_type, const Json& body) const {
  Request request = NewRequest(method, std::move(path));
  request.headers.emplace_back("Content-Type", std::string(content_type));
  request.body = DumpJson(body);
  return request;
}

absl::StatusOr<Json> Client::Get(absl::string_view path) {
  Request request = NewRequest("GET", std::string(path));
  const std::string context = Context("getting", path, request.path);
  return SendForObject(context, std::move(request));
}

absl::StatusOr<ObjectList> Client::List(absl::string_view path, const ListOptions& options) {
  ObjectList list;
  std::string next;  // the continue token
  do {
    QueryParams params = {{"labelSelector", options.label_selector},
                          {"fieldSelector", options.field_selector}};
    if (options.page_size > 0) params.emplace_back("limit", absl::StrCat(options.page_size));
    // The server refuses a resourceVersion together with a continue token.
    params.emplace_back(next.empty() ? "resourceVersion" : "continue",
                        next.empty() ? options.resource_version : next);
    Request request = NewRequest("GET", WithQuery(path, params));
    const std::string context = Context("listing", path, request.path);
    ASSIGN_OR_RETURN(Json page, SendForObject(context, std::move(request)));
    auto items = page.find("items");
    if (items != page.end() && !items->is_null() && !items->is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": items is not a list"));
    }
    if (items != page.end() && items->is_array()) {
      for (Json& item : *items) list.items.push_back(std::move(item));
    }
    list.resource_version = StringAt(page, {"metadata", "resourceVersion"});
    std::string following = StringAt(page, {"metadata", "continue"});
    if (!following.empty() && following == next) {
      return absl::InvalidArgumentError(
          absl::StrCat(context, ": the server repeats the same continue token"));
    }
    next = options.page_size > 0 ? std::move(following) : "";
  } while (!next.empty());
  return list;
}

absl::StatusOr<Json> Client::Create(absl::string_view path, const Json& object) {
  Request request = NewRequest("POST", std::string(path), kJson, object);
  const std::string context = Context("creating", ChildPath(path, object), request.path);
  return SendForObject(context, std::move(request));
}

absl::StatusOr<Json> Client::Replace(absl::string_view path, const Json& object) {
  Request request = NewRequest("PUT", std::string(path), kJson, object);
  const std::string context = Context("updating", path, request.path);
  return SendForObject(context, std::move(request));
}

absl::StatusOr<Json> Client::Update(absl::string_view path,
                                    const std::function<absl::Status(Json&)>& mutate) {
  absl::Status conflict;
  for (int attempt = 0; attempt < options_.max_update_attempts; ++attempt) {
    ASSIGN_OR_RETURN(Json object, Get(path));
    Json before = object;
    RETURN_IF_ERROR(mutate(object));
    if (object == before) return object;
    absl::StatusOr<Json> updated = Replace(path, object);
    if (updated.ok() || !IsApiConflict(updated.status())) return updated;
    conflict = updated.status();
  }
  if (conflict.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("updating ", DescribePath(path), ": max_update_attempts is not positive"));
  }
  return Reworded(conflict, absl::StrCat(conflict.message(), " (gave up after ",
                                         options_.max_update_attempts, " attempts)"));
}

absl::StatusOr<Json> Client::Patch(absl::string_view path, const Json& merge_patch) {
  Request request = NewRequest("PATCH", std::string(path), kMergePatch, merge_patch);
  const std::string context = Context("patching", path, request.path);
  return SendForObject(context, std::move(request));
}

absl::Status Client::Delete(absl::string_view path) {
  Request request = NewRequest("DELETE", std::string(path));
  const std::string context = Context("deleting", path, request.path);
  return Send(context, std::move(request), nullptr, nullptr).status();
}

absl::StatusOr<std::unique_ptr<Client>> NewClient(const Config& config, ClientOptions options) {
  ASSIGN_OR_RETURN(std::unique_ptr<CurlTransport> transport, CurlTransport::Create(config));
  return std::make_unique<Client>(std::move(transport), config.token, options);
}

}  // namespace weave::kube
