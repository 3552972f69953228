// How requests reach the API server: one HTTP exchange at a time, behind an interface so that the
// Client can be tested with FakeTransport. CurlTransport is the real one (HTTPS, verified).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace weave::kube {

struct Request {
  std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE
  std::string path;            // path and query: "/api/v1/nodes?limit=500"
  std::vector<std::pair<std::string, std::string>> headers;  // besides Accept and Content-Length
  std::string body;                                          // sent when not empty
  absl::Duration timeout = absl::Seconds(30);  // the whole exchange, a streamed body included
};

struct Response {
  int status = 0;
  std::string body;  // empty when streamed to a BodySink
};

// Receives a 2xx body piece by piece as it arrives; returns false to end the exchange early.
using BodySink = std::function<bool(absl::string_view piece)>;

// Thread-safe: exchanges may run concurrently on several threads.
class Transport {
 public:
  virtual ~Transport() = default;

  // The server's base URL, prefixed to Request::path ("https://10.96.0.1:443").
  virtual const std::string& server() const = 0;

  // Sends `request` and returns the server's answer, whatever its HTTP status. An error Status
  // means no complete answer: Unavailable (connection, TLS, a body cut short, a body over the
  // size limit), DeadlineExceeded (request.timeout or the connect timeout passed), Cancelled
  // (`cancel` was notified; it is checked at least every 100 ms). Messages are the reason only
  // ("SSL certificate problem: unable to get local issuer certificate"); callers add context.
  // With `sink` set, a 2xx body goes to the sink instead of Response::body, and a sink that
  // returns false ends the exchange with the Response (OK). Other bodies are always collected.
  virtual absl::StatusOr<Response> RoundTrip(const Request& request, const BodySink& sink,
                                             const absl::Notification* cancel) = 0;
};

}  // namespace weave::kube
