#include "test/kube/fake_apiserver.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "httplib.h"
#include "test/kube/api_error.h"
#include "test/kube/control.h"
#include "test/kube/rbac_objects.h"
#include "test/kube/request_attributes.h"
#include "test/kube/rest_handler.h"
#include "test/kube/watch_stream.h"

namespace weave::testing::kube {

using nlohmann::json;

namespace {

constexpr size_t kRequestLogSize = 1000;

RestRequest ToRestRequest(const httplib::Request& req) {
  RestRequest request{req.method,
                      req.path,
                      {},
                      req.get_header_value("Content-Type"),
                      req.get_header_value("Accept"),
                      req.body};
  for (const auto& [key, value] : req.params) request.query.emplace(key, value);
  return request;
}

void Reply(httplib::Response& res, int code, const json& body) {
  res.status = code;
  // Replace, not throw on, invalid UTF-8 that a query parameter brought into a message.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void Reply(httplib::Response& res, const RestResponse& answer) {
  if (answer.raw) {
    res.status = answer.code;
    res.set_content(answer.raw->second, answer.raw->first.c_str());
    return;
  }
  Reply(res, answer.code, answer.body);
}

void Reply(httplib::Response& res, const absl::Status& status) {
  Reply(res, HttpCode(status), StatusObject(status));
}

// The half of a body that a dropped connection leaves.
void ReplyTruncated(httplib::Response& res, bool watch) {
  const std::string text =
      watch ? R"({"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":)"
            : R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","mes)";
  auto provider = [text](size_t offset, httplib::DataSink& sink) {
    if (offset == 0) sink.write(text.data(), text.size());
    return false;  // drops the connection
  };
  if (watch) {
    res.set_chunked_content_provider("application/json", provider);
  } else {
    res.set_content_provider(text.size() * 2, "application/json",
                             [provider](size_t offset, size_t, httplib::DataSink& sink) {
                               return provider(offset, sink);
                             });
  }
}

void ReplyFault(httplib::Response& res, FaultKind kind, const RestRequest& request, bool watch) {
  switch (kind) {
    case FaultKind::kForbidden:
      return Reply(res, ApiError(403, "Forbidden",
                                 absl::StrCat("forbidden (injected fault): User "
                                              "\"system:serviceaccount:kube-system:weave-net\" "
                                              "cannot ",
                                              request.method, " ", request.path)));
    case FaultKind::kGone:
      return Reply(res, ExpiredError("too old resource version (injected fault)"));
    case FaultKind::kInternalError:
      return Reply(res, ApiError(500, "InternalError", "an error on the server (injected fault)"));
    case FaultKind::kInvalidJson:
      res.status = 200;
      res.set_content("{\"kind\": this is not JSON (injected fault)\n", "application/json");
      return;
    case FaultKind::kTruncated:
      return ReplyTruncated(res, watch);
  }
}

// A service account's token authenticates only while the account exists, as the real
// server's service-account token authenticator checks.
bool ServiceAccountExists(const Store& store, const UserInfo& user) {
  std::string ns, name;
  if (!ParseServiceAccountUser(user.name, &ns, &name)) return true;
  return store.Get(*FindResource("", "v1", "serviceaccounts"), ns, name).ok();
}

// Authentication and authorization failures go to stderr whatever options.on_request does, so
// that a test's log shows which grant or account was missing.
void LogToStderr(const std::string& line) {
  std::fprintf(stderr, "fake-apiserver: %s\n", line.c_str());
}

absl::Duration WatchTimeout(const RestRequest& request, absl::Duration fallback) {
  auto it = request.query.find("timeoutSeconds");
  int64_t seconds = 0;
  if (it != request.query.end() && absl::SimpleAtoi(it->second, &seconds) && seconds > 0) {
    return absl::Seconds(seconds);
  }
  return fallback;
}

}  // namespace

// The HTTP side of one request.
class FakeApiServer::Handler {
 public:
  explicit Handler(FakeApiServer& server) : server_(server) {}

  void Serve(const httplib::Request& req, httplib::Response& res) {
    const RestRequest request = ToRestRequest(req);
    ServeAuthorized(req, request, res);
    server_.Log(absl::StrCat(req.method, " ", req.target, " ", res.status));
  }

 private:
  void ServeAuthorized(const httplib::Request& req, const RestRequest& request,
                       httplib::Response& res) {
    std::optional<UserInfo> user =
        server_.tokens_.Authenticate(req.get_header_value("Authorization"));
    if (user && !ServiceAccountExists(*server_.store_, *user)) {
      LogToStderr(absl::StrCat("401 for ", user->name, ": its ServiceAccount does not exist"));
      user.reset();
    }
    if (!user) return Reply(res, ApiError(401, "Unauthorized", "Unauthorized"));
    if (server_.options_.rbac) {
      const RequestAttributes attributes = RequestAttributesOf(request, *std::move(user));
      const Decision decision = Authorize(StoredPolicy(*server_.store_), attributes);
      if (!decision.allowed) {
        const absl::Status denied = DeniedError(attributes, decision);
        LogToStderr(
            absl::StrCat("RBAC denied ", req.method, " ", req.target, ": ", denied.message()));
        return Reply(res, denied);
      }
    }
    if (absl::StartsWith(request.path, "/_fake/")) {
      return Reply(res, HandleControl(request, {*server_.store_, server_.faults_, server_.tokens_,
                                                server_.RecentRequests()}));
    }
    const bool watch = IsWatch(request);
    if (std::optional<FaultKind> fault = server_.faults_.Take(request.path, watch)) {
      return ReplyFault(res, *fault, request, watch);
    }
    if (watch) return ServeWatch(request, res);
    const std::string address = absl::StrCat(server_.options_.listen_host, ":", server_.port_);
    Reply(res, HandleRest(*server_.store_, request, address));
  }

  void ServeWatch(const RestRequest& request, httplib::Response& res) {
    const ResourceType* type = nullptr;
    absl::StatusOr<std::unique_ptr<Watcher>> watcher = OpenWatch(*server_.store_, request, &type);
    if (!watcher.ok()) return Reply(res, watcher.status());
    WatchStreamOptions options;
    options.timeout = WatchTimeout(request, server_.options_.default_watch_timeout);
    if (QueryFlag(request, "allowWatchBookmarks")) {
      options.bookmark_interval = server_.options_.bookmark_interval;
    }
    auto stream =
        std::make_shared<WatchStream>(*std::move(watcher), *type, options, &server_.stopping_);
    res.status = 200;
    // "application/json" exactly as the real server, but httplib would then gzip the stream for
    // clients that accept it, holding events in the compressor: a parameter avoids that and
    // clients parse the media type.
    res.set_chunked_content_provider(
        "application/json;stream=watch", [stream](size_t, httplib::DataSink& sink) {
          WatchStream::Step step = stream->Pump(
              [&sink](absl::string_view data) { return sink.write(data.data(), data.size()); });
          if (step == WatchStream::Step::kDone) sink.done();
          return step != WatchStream::Step::kBroken;
        });
  }

  FakeApiServer& server_;
};

absl::StatusOr<std::unique_ptr<FakeApiServer>> FakeApiServer::Create(FakeApiServerOptions options) {
  if (options.dir.empty()) return absl::InvalidArgumentError("FakeApiServerOptions.dir is empty");
  absl::StatusOr<TestPki> pki = EnsureTestPki(options.dir, options.ips);
  if (!pki.ok()) return pki.status();
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options.store);
  if (!store.ok()) return store.status();
  return std::unique_ptr<FakeApiServer>(
      new FakeApiServer(std::move(options), *std::move(store), *std::move(pki)));
}

FakeApiServer::FakeApiServer(FakeApiServerOptions options, std::unique_ptr<Store> store,
                             TestPki pki)
    : options_(std::move(options)),
      store_(std::move(store)),
      pki_(std::move(pki)),
      tokens_(options_.token, options_.token_users),
      port_(options_.port) {}

FakeApiServer::~FakeApiServer() { Stop(); }

absl::Status FakeApiServer::Start() {
  if (http_) return absl::FailedPreconditionError("the fake API server is already running");
  if (started_before_ && !options_.keep_history_across_restart) store_->CompactHistory();
  stopping_ = false;
  auto http = std::make_unique<httplib::SSLServer>(pki_.server_cert_path.c_str(),
                                                   pki_.server_key_path.c_str());
  if (!http->is_valid()) {
    return absl::InternalError(absl::StrCat("cannot load ", pki_.server_cert_path));
  }
  const int workers = options_.worker_threads;
  http->new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  // No SO_REUSEPORT (httplib's default): a second server on our port must fail, not share it.
  http->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // An answer's head and body are separate writes: without TCP_NODELAY the body waits for the
  // client's delayed ACK (40 ms a request).
  http->set_tcp_nodelay(true);
  http->set_keep_alive_max_count(100000);
  http->set_keep_alive_timeout(std::max<time_t>(1, absl::ToInt64Seconds(options_.idle_timeout)));
  auto handler = std::make_shared<Handler>(*this);
  auto serve = [handler](const httplib::Request& req, httplib::Response& res) {
    handler->Serve(req, res);
  };
  const char* kAll = "/.*";
  http->Get(kAll, serve).Post(kAll, serve).Put(kAll, serve).Patch(kAll, serve).Delete(kAll, serve);
  const bool bound = port_ == 0 ? (port_ = http->bind_to_any_port(options_.listen_host)) > 0
                                : http->bind_to_port(options_.listen_host, port_);
  if (!bound) {
    return absl::UnavailableError(absl::StrCat("fake API server: cannot listen on ",
                                               options_.listen_host, ":", port_, ": ",
                                               std::strerror(errno)));
  }
  http_ = std::move(http);
  thread_ = std::thread([server = http_.get()] { server->listen_after_bind(); });
  // httplib's stop() is lost if it comes before the listening loop runs.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!http_->is_running() && absl::Now() < deadline) absl::SleepFor(absl::Microseconds(100));
  started_before_ = true;
  return absl::OkStatus();
}

void FakeApiServer::Stop() {
  if (!http_) return;
  stopping_ = true;
  store_->CloseAllWatches();
  http_->stop();
  if (thread_.joinable()) thread_.join();
  http_.reset();
}

std::string FakeApiServer::url(const std::string& host) const {
  const std::string& listen = options_.listen_host;
  const std::string& chosen =
      !host.empty() ? host : (listen.empty() || listen == "0.0.0.0" ? "127.0.0.1" : listen);
  return absl::StrCat("https://", chosen, ":", port_);
}

absl::Status FakeApiServer::WriteKubeconfig(const std::string& path,
                                            const std::string& host) const {
  return kube::WriteKubeconfig(path, url(host), pki_.ca_cert_path, options_.token);
}

void FakeApiServer::Log(std::string line) {
  if (options_.on_request) options_.on_request(line);
  std::lock_guard<std::mutex> lock(log_mu_);
  log_.push_back(std::move(line));
  if (log_.size() > kRequestLogSize) log_.pop_front();
}

std::vector<std::string> FakeApiServer::RecentRequests() const {
  std::lock_guard<std::mutex> lock(log_mu_);
  return {log_.begin(), log_.end()};
}

}  // namespace weave::testing::kube
