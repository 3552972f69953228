#include "common/http/server.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "httplib.h"

namespace weave::http {

absl::StatusOr<ListenAddress> ListenAddress::Parse(absl::string_view text) {
  size_t colon = text.rfind(':');
  ListenAddress address;
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(text.substr(colon + 1), &address.port) || address.port < 0 ||
      address.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not a listen address (expected host:port)"));
  }
  address.host = std::string(text.substr(0, colon));
  return address;
}

std::string ListenAddress::ToString() const { return absl::StrCat(host, ":", port); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(absl::string_view name,
                                                      const ListenAddress& address,
                                                      std::vector<Route> routes) {
  std::unique_ptr<Server> server(new Server());
  server->server_ = std::make_unique<httplib::Server>();
  httplib::Server& s = *server->server_;
  // Status and metrics see little traffic; two workers keep the thread count small.
  s.new_task_queue = [] { return new httplib::ThreadPool(2); };
  // httplib's default adds SO_REUSEPORT, which would let a second daemon share our port
  // silently; a busy port must be an error.
  s.set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  for (Route& route : routes) {
    s.Get(route.path, [handler = std::move(route.handler)](const httplib::Request& req,
                                                           httplib::Response& res) {
      Request request;
      request.path = req.path;
      if (size_t mark = req.target.find('?'); mark != std::string::npos) {
        request.raw_query = req.target.substr(mark + 1);
      }
      for (const auto& [key, value] : req.params) request.query.emplace(key, value);
      for (const auto& [key, value] : req.headers) {
        request.headers.emplace(absl::AsciiStrToLower(key), value);
      }
      Response response = handler(request);
      res.status = response.status;
      res.set_content(response.body, response.content_type.c_str());
    });
  }
  std::string host = address.host.empty() ? "0.0.0.0" : address.host;
  int port = address.port;
  bool bound = false;
  if (port == 0) {
    port = s.bind_to_any_port(host);
    bound = port > 0;
  } else {
    bound = s.bind_to_port(host, port);
  }
  if (!bound) {
    int err = errno;
    return absl::UnavailableError(absl::StrCat("cannot listen for ", name, " on ",
                                               address.ToString(), ": ", std::strerror(err)));
  }
  server->port_ = port;
  server->thread_ = std::thread([&s] { s.listen_after_bind(); });
  // httplib's stop() does nothing until the listening loop has started, and that loop would
  // then run forever: a router failing right after start-up hung in Stop. Return only once the
  // loop runs (a few microseconds).
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!s.is_running() && absl::Now() < deadline) absl::SleepFor(absl::Microseconds(100));
  return server;
}

void Server::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

Server::~Server() { Stop(); }

}  // namespace weave::http
