// A small read-only HTTP/1.1 server (GET routes with exact paths) on its own threads, for
// status and metrics endpoints. Built on cpp-httplib; handlers see only the value types below.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <thread>
#include <vector>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace weave::http {

struct Request {
  std::string path;
  std::map<std::string, std::string> query;  // first value of each parameter
  // The query string as sent (after '?', not decoded), for handlers that need the parameters'
  // order or repeats.
  std::string raw_query;
  std::map<std::string, std::string> headers;  // lower-case names
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct Route {
  std::string path;  // exact match
  std::function<Response(const Request&)> handler;  // called on a server thread
};

// "host:port" as a listen address; an empty host ("":6782") means every address.
struct ListenAddress {
  std::string host;
  int port = 0;
  static absl::StatusOr<ListenAddress> Parse(absl::string_view text);
  std::string ToString() const;
};

class Server {
 public:
  // Binds before returning, so that "address in use" is reported to the caller, then
  // serves on a background thread. `name` appears in errors ("status", "metrics").
  static absl::StatusOr<std::unique_ptr<Server>> Start(absl::string_view name,
                                                       const ListenAddress& address,
                                                       std::vector<Route> routes);
  ~Server();  // stops

  // Stops accepting and waits for in-flight requests. Idempotent.
  void Stop();
  int port() const { return port_; }  // the bound port (useful when asked for port 0)

 private:
  Server() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace weave::http
