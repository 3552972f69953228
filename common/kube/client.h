// A Kubernetes API client for the router and weave-npc: GET, LIST, WATCH, CREATE, UPDATE (with
// optimistic concurrency), PATCH and DELETE on API paths ("/api/v1/nodes",
// "/apis/networking.k8s.io/v1/networkpolicies", "/api/v1/namespaces/kube-system/configmaps/x").
// Objects are JSON; callers decode the fields they use.
//
// Errors are absl::Status, one line, with what was being done and the URL:
//   "listing nodes: https://10.0.0.1:443/api/v1/nodes: 403 Forbidden: nodes is forbidden: ..."
// see errors.h for codes and the IsApiConflict/IsApiGone/IsApiNotFound helpers. Nothing here
// retries except a 401 (once, if the token read afresh is a new one) and Update's conflicts; the
// Reflector retries.
//
// Thread-safe: calls may be made concurrently from several threads.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/kube/config.h"
#include "common/kube/object.h"
#include "common/kube/token.h"
#include "common/kube/transport.h"

namespace weave::kube {

struct ClientOptions {
  absl::Duration request_timeout = absl::Seconds(30);  // every request but watches
  absl::Duration watch_grace = absl::Seconds(30);  // a watch may run this much past timeoutSeconds
  int max_update_attempts = 5;                     // Update: GET-mutate-PUT rounds on conflicts
  size_t max_event_size = 32 << 20;                // one watch event (one line of the stream)
};

class Client {
 public:
  // `token` may be null (client certificates, or no authentication).
  Client(std::unique_ptr<Transport> transport, std::shared_ptr<TokenSource> token,
         ClientOptions options = {});

  const std::string& server() const { return transport_->server(); }

  // One object.
  absl::StatusOr<Json> Get(absl::string_view path);

  // The items of a collection and the list's resourceVersion, following continue tokens when
  // options.page_size is set (an expired token is IsApiGone: list again from the start).
  absl::StatusOr<ObjectList> List(absl::string_view path, const ListOptions& options = {});

  // Watches a collection from options.resource_version, calling `on_event` (on this thread) for
  // each ADDED, MODIFIED, DELETED and BOOKMARK event until the server ends the stream
  // (timeoutSeconds): then OK. An ERROR event ends the watch with its Status (IsApiGone for an
  // expired resourceVersion); so does a line that is not a watch event, or a stream cut short.
  // Cancelled when `stop` is notified (checked at least every 100 ms); `stop` may be null.
  absl::Status Watch(absl::string_view path, const WatchOptions& options,
                     const std::function<void(WatchEvent)>& on_event,
                     const absl::Notification* stop = nullptr);

  // POSTs `object` to the collection `path`; the object as created. IsApiAlreadyExists if it
  // exists.
  absl::StatusOr<Json> Create(absl::string_view path, const Json& object);

  // PUTs `object` (which carries the metadata.resourceVersion it was read at) to `path`; the
  // object as stored. IsApiConflict if it changed since.
  absl::StatusOr<Json> Replace(absl::string_view path, const Json& object);

  // Read-modify-write: GETs `path`, applies `mutate` and PUTs the result; on a conflict does it
  // all again with the object read afresh, up to max_update_attempts times. When `mutate` leaves
  // the object as it was, nothing is written. An error from `mutate` is returned as it is.
  absl::StatusOr<Json> Update(absl::string_view path,
                              const std::function<absl::Status(Json&)>& mutate);

  // Applies a JSON merge patch (RFC 7386) to `path` ("/api/v1/nodes/n1/status"); the result.
  absl::StatusOr<Json> Patch(absl::string_view path, const Json& merge_patch);

  // Deletes `path`; IsApiNotFound if it is not there.
  absl::Status Delete(absl::string_view path);

 private:
  // "listing nodes: https://10.0.0.1:443/api/v1/nodes?limit=500": `verb`, what `described` names
  // (see DescribePath) and the URL of `request_path`.
  std::string Context(absl::string_view verb, absl::string_view described,
                      absl::string_view request_path) const;
  Request NewRequest(absl::string_view method, std::string path) const;
  Request NewRequest(absl::string_view method, std::string path, absl::string_view content_type,
                     const Json& body) const;

  // One exchange with the bearer token; a 401 makes it read the token afresh and, if it changed,
  // try once more.
  // Errors, and HTTP answers other than 2xx (as ApiError), are prefixed with `context`.
  absl::StatusOr<Response> Send(absl::string_view context, Request request, const BodySink& sink,
                                const absl::Notification* stop);
  // Send, and the answer's body as a JSON object.
  absl::StatusOr<Json> SendForObject(absl::string_view context, Request request);

  const std::unique_ptr<Transport> transport_;
  const std::shared_ptr<TokenSource> token_;
  const ClientOptions options_;
};

// A Client over CurlTransport for `config`.
absl::StatusOr<std::unique_ptr<Client>> NewClient(const Config& config, ClientOptions options = {});

}  // namespace weave::kube
