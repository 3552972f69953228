// CurlTransport against a local HTTPS server: verified TLS, client certificates, methods and
// bodies, streamed bodies, and each way an exchange can fail.
#include "common/kube/curl_transport.h"

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "common/kube/https_test_server.h"
#include "test/harness/status_assertions.h"

namespace weave::kube {
namespace {

using testing::HttpsTestServer;
using testing::SharedTestPki;
using testing::TestPki;

struct Fixture {
  Fixture(bool require_client_cert = false)
      : pki(SharedTestPki("good")),
        server(HttpsTestServer::Start(pki, require_client_cert).value()) {}
  std::unique_ptr<CurlTransport> Transport(const std::string& ca_pem) const {
    return Transport(Config{.server = server->url(), .ca_pem = ca_pem});
  }
  std::unique_ptr<CurlTransport> Transport(const Config& config) const {
    return CurlTransport::Create(config).value();
  }
  const TestPki& pki;
  std::unique_ptr<HttpsTestServer> server;
};

absl::StatusOr<Response> Get(CurlTransport& transport, const std::string& path,
                             absl::Duration timeout = absl::Seconds(10)) {
  Request request;
  request.path = path;
  request.timeout = timeout;
  return transport.RoundTrip(request, nullptr, nullptr);
}

TEST_CASE("requests reach a server whose certificate the CA signed", "[kube]") {
  Fixture f;
  f.server->server().Get("/api/v1/nodes", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.get_header_value("Authorization") + "|" + req.get_header_value("Accept"),
                    "application/json");
  });
  f.server->server().Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.status = 201;
    res.set_content(req.method + " " + req.get_header_value("Content-Type") + " " + req.body,
                    "text/plain");
  });
  f.server->server().Put("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.method + " " + req.body, "text/plain");
  });
  f.server->server().Patch("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.method + " " + req.get_header_value("Content-Type"), "text/plain");
  });
  f.server->server().Delete("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.status = 404;
    res.set_content(req.method, "text/plain");
  });
  auto transport = f.Transport(f.pki.ca_pem);
  CHECK(transport->server() == f.server->url());

  Request get;
  get.path = "/api/v1/nodes";
  get.headers = {{"Authorization", "Bearer abc"}};
  ASSIGN_OR_REQUIRE(Response response, transport->RoundTrip(get, nullptr, nullptr));
  CHECK(response.status == 200);
  CHECK(response.body == "Bearer abc|application/json");

  Request post{.method = "POST",
               .path = "/echo",
               .headers = {{"Content-Type", "application/json"}},
               .body = "{\"a\":1}"};
  ASSIGN_OR_REQUIRE(response, transport->RoundTrip(post, nullptr, nullptr));
  CHECK(response.status == 201);
  CHECK(response.body == "POST application/json {\"a\":1}");
  Request put{.method = "PUT", .path = "/echo", .body = "x"};
  CHECK(transport->RoundTrip(put, nullptr, nullptr)->body == "PUT x");
  Request patch{.method = "PATCH",
                .path = "/echo",
                .headers = {{"Content-Type", "application/merge-patch+json"}},
                .body = "{}"};
  CHECK(transport->RoundTrip(patch, nullptr, nullptr)->body ==
        "PATCH application/merge-patch+json");
  // An HTTP error status is an answer, not a transport failure.
  Request del{.method = "DELETE", .path = "/echo"};
  ASSIGN_OR_REQUIRE(response, transport->RoundTrip(del, nullptr, nullptr));
  CHECK(response.status == 404);
  CHECK(response.body == "DELETE");
}

TEST_CASE("a server certificate from another CA is refused", "[kube]") {
  Fixture f;
  f.server->server().Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("secret", "text/plain");
  });
  const TestPki& other = SharedTestPki("other");
  absl::StatusOr<Response> response = Get(*f.Transport(other.ca_pem), "/");
  CHECK(response.status().code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(response.status().message(), "certificate"));
  // Nor is the system's trust store a way around it.
  CHECK_FALSE(Get(*f.Transport(""), "/").ok());
}

TEST_CASE("a certificate for another name is refused", "[kube]") {
  const TestPki& pki = SharedTestPki("ip-only", "IP:127.0.0.2");
  auto server = HttpsTestServer::Start(pki).value();
  server->server().Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("secret", "text/plain");
  });
  auto transport = CurlTransport::Create({.server = server->url(), .ca_pem = pki.ca_pem}).value();
  absl::StatusOr<Response> response = Get(*transport, "/");
  CHECK(response.status().code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StrContains(response.status().message(), "127.0.0.1"));
}

TEST_CASE("client certificates authenticate to a server that requires them", "[kube]") {
  Fixture f(/*require_client_cert=*/true);
  f.server->server().Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("hello", "text/plain");
  });
  CHECK_FALSE(Get(*f.Transport(f.pki.ca_pem), "/").ok());
  auto transport = f.Transport(Config{.server = f.server->url(),
                                      .ca_pem = f.pki.ca_pem,
                                      .client_cert_pem = f.pki.client_cert_pem,
                                      .client_key_pem = f.pki.client_key_pem});
  ASSIGN_OR_REQUIRE(Response response, Get(*transport, "/"));
  CHECK(response.body == "hello");
}

// A chunked stream of `lines`, then: the end, a cut (no terminating chunk) or silence until the
// server stops.
enum class Ending { kDone, kCut, kHold };
void Stream(HttpsTestServer& server, const std::string& path, std::vector<std::string> lines,
            Ending ending) {
  server.server().Get(
      path, [&server, lines, ending](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider(
            "application/json", [&server, lines, ending](size_t, httplib::DataSink& sink) {
              for (const std::string& line : lines) sink.write(line.data(), line.size());
              if (ending == Ending::kDone) sink.done();
              if (ending == Ending::kHold) {
                server.stopping().WaitForNotificationWithTimeout(absl::Seconds(20));
              }
              return ending == Ending::kDone;
            });
      });
}

TEST_CASE("a streamed body goes to the sink as it arrives", "[kube]") {
  Fixture f;
  Stream(*f.server, "/stream", {"one\n", "two\n", "three\n"}, Ending::kDone);
  Stream(*f.server, "/cut", {"one\n", "tw"}, Ending::kCut);
  auto transport = f.Transport(f.pki.ca_pem);
  Request request{.path = "/stream"};
  std::string received;
  auto collect = [&](absl::string_view piece) {
    received.append(piece.data(), piece.size());
    return true;
  };
  ASSIGN_OR_REQUIRE(Response response, transport->RoundTrip(request, collect, nullptr));
  CHECK(response.status == 200);
  CHECK(response.body.empty());
  CHECK(received == "one\ntwo\nthree\n");

  // The sink may end the exchange early: that is not an error.
  int calls = 0;
  auto first_only = [&](absl::string_view) { return ++calls < 1; };
  CHECK(transport->RoundTrip(request, first_only, nullptr).ok());
  CHECK(calls == 1);

  // A stream cut short is.
  received.clear();
  request.path = "/cut";
  absl::StatusOr<Response> cut = transport->RoundTrip(request, collect, nullptr);
  CHECK(cut.status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("an exchange ends on cancel, on timeout and when nobody listens", "[kube]") {
  Fixture f;
  Stream(*f.server, "/quiet", {"hello\n"}, Ending::kHold);
  auto transport = f.Transport(f.pki.ca_pem);
  Request request{.path = "/quiet", .timeout = absl::Seconds(30)};
  absl::Notification cancel;
  auto cancel_on_data = [&](absl::string_view) {
    cancel.Notify();
    return true;
  };
  absl::Time start = absl::Now();
  CHECK(transport->RoundTrip(request, cancel_on_data, &cancel).status().code() ==
        absl::StatusCode::kCancelled);
  CHECK(absl::Now() - start < absl::Seconds(2));

  request.timeout = absl::Milliseconds(300);
  start = absl::Now();
  CHECK(transport
            ->RoundTrip(
                request, [](absl::string_view) { return true; }, nullptr)
            .status()
            .code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(absl::Now() - start < absl::Seconds(2));

  f.server->Stop();
  absl::StatusOr<Response> refused = Get(*transport, "/");
  CHECK(refused.status().code() == absl::StatusCode::kUnavailable);
  INFO(refused.status());
}

TEST_CASE("only https servers are accepted", "[kube]") {
  CHECK(CurlTransport::Create({.server = "http://127.0.0.1:8080"}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace weave::kube
