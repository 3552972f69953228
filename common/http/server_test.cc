#include "common/http/server.h"

#include <catch2/catch.hpp>

#include "httplib.h"

namespace weave::http {
namespace {

TEST_CASE("ListenAddress parses host:port and :port", "[http]") {
  CHECK(ListenAddress::Parse("127.0.0.1:6784")->port == 6784);
  CHECK(ListenAddress::Parse(":6782")->host.empty());
  CHECK_FALSE(ListenAddress::Parse("6782").ok());
  CHECK_FALSE(ListenAddress::Parse("host:70000").ok());
  CHECK_FALSE(ListenAddress::Parse("host:x").ok());
}

TEST_CASE("Server serves routes on loopback and reports a busy port", "[http]") {
  auto server = Server::Start(
      "test", {"127.0.0.1", 0},
      {{"/hello", [](const Request& request) {
          auto who = request.query.find("who");
          return Response{201, "text/plain", "hi " + (who == request.query.end() ? std::string("?") : who->second)};
        }}});
  REQUIRE(server.ok());
  httplib::Client client("127.0.0.1", (*server)->port());
  auto res = client.Get("/hello?who=me");
  REQUIRE(res);
  CHECK(res->status == 201);
  CHECK(res->body == "hi me");
  auto missing = client.Get("/nope");
  REQUIRE(missing);
  CHECK(missing->status == 404);

  auto second = Server::Start("metrics", {"127.0.0.1", (*server)->port()}, {});
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().message().find("cannot listen for metrics on 127.0.0.1:") == 0);
  (*server)->Stop();
  (*server)->Stop();  // idempotent
}

TEST_CASE("Server hands handlers the query string as sent", "[http]") {
  auto server = Server::Start("test", {"127.0.0.1", 0},
                              {{"/echo", [](const Request& request) {
                                  return Response{200, "text/plain", request.raw_query};
                                }}});
  REQUIRE(server.ok());
  httplib::Client client("127.0.0.1", (*server)->port());
  auto res = client.Get("/echo?b=2&a=%20x&b=3");
  REQUIRE(res);
  CHECK(res->body == "b=2&a=%20x&b=3");
  auto none = client.Get("/echo");
  REQUIRE(none);
  CHECK(none->body.empty());
}

}  // namespace
}  // namespace weave::http
