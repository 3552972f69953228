#include "common/kube/errors.h"

#include <catch2/catch.hpp>

namespace weave::kube {
namespace {

constexpr char kContext[] = "listing nodes: https://10.0.0.1:443/api/v1/nodes";

std::string StatusBody(int code, const char* reason, const char* message) {
  return DumpJson({{"kind", "Status"},
                   {"apiVersion", "v1"},
                   {"status", "Failure"},
                   {"code", code},
                   {"reason", reason},
                   {"message", message}});
}

TEST_CASE("API errors carry the context, the HTTP status and the server's message", "[kube]") {
  absl::Status forbidden = ApiError(
      kContext, 403,
      StatusBody(403, "Forbidden",
                 "nodes is forbidden: User \"system:anonymous\" cannot list resource \"nodes\""));
  CHECK(forbidden.code() == absl::StatusCode::kPermissionDenied);
  CHECK(forbidden.message() ==
        "listing nodes: https://10.0.0.1:443/api/v1/nodes: 403 Forbidden: nodes is forbidden: "
        "User \"system:anonymous\" cannot list resource \"nodes\"");
  CHECK(HttpStatusOf(forbidden) == 403);

  // Whatever else the body is, it ends up on one line, cut short.
  absl::Status html = ApiError(kContext, 502, "<html>\n<body>\r\n\tBad gateway\x01</body>\n");
  CHECK(html.code() == absl::StatusCode::kUnavailable);
  CHECK(html.message() == std::string(kContext) +
                              ": 502 Bad Gateway: <html> <body> Bad "
                              "gateway</body>");
  absl::Status empty = ApiError(kContext, 500, "");
  CHECK(empty.message() == std::string(kContext) + ": 500 Internal Server Error");
  absl::Status odd = ApiError(kContext, 418, std::string(5000, 'x'));
  CHECK(odd.message().size() < 400);
  CHECK(odd.code() == absl::StatusCode::kUnknown);
}

TEST_CASE("helpers tell conflicts, existing objects, expiry and absence apart", "[kube]") {
  absl::Status conflict = ApiError(kContext, 409, StatusBody(409, "Conflict", "modified"));
  absl::Status exists = ApiError(kContext, 409, StatusBody(409, "AlreadyExists", "exists"));
  absl::Status gone = ApiError(kContext, 410, StatusBody(410, "Expired", "too old"));
  absl::Status missing = ApiError(kContext, 404, StatusBody(404, "NotFound", "not found"));
  absl::Status unauthorized = ApiError(kContext, 401, "Unauthorized");
  CHECK(IsApiConflict(conflict));
  CHECK_FALSE(IsApiConflict(exists));
  CHECK(IsApiAlreadyExists(exists));
  CHECK(exists.code() == absl::StatusCode::kAlreadyExists);
  CHECK(IsApiGone(gone));
  CHECK(gone.code() == absl::StatusCode::kOutOfRange);
  CHECK(IsApiNotFound(missing));
  CHECK(IsApiUnauthorized(unauthorized));
  CHECK(unauthorized.code() == absl::StatusCode::kUnauthenticated);
  // Statuses that did not come from an HTTP answer are none of these.
  CHECK(HttpStatusOf(absl::NotFoundError("x")) == 0);
  CHECK_FALSE(IsApiNotFound(absl::NotFoundError("x")));
  CHECK_FALSE(IsApiGone(absl::OkStatus()));
}

TEST_CASE("a watch ERROR event becomes a Status, IsApiGone for 410 and Expired", "[kube]") {
  absl::Status expired = WatchErrorEvent(
      "watching nodes: u",
      ParseJson(StatusBody(410, "Expired", "too old resource version: 5 (9)")).value());
  CHECK(IsApiGone(expired));
  CHECK(expired.message() ==
        "watching nodes: u: watch error: 410 Gone: too old resource version: 5 (9)");
  CHECK(IsApiGone(WatchErrorEvent("w", Json{{"reason", "Expired"}})));
  absl::Status internal =
      WatchErrorEvent("w", Json{{"code", 500}, {"reason", "InternalError"}, {"message", "etcd"}});
  CHECK_FALSE(IsApiGone(internal));
  CHECK(internal.message() == "w: watch error: 500 Internal Server Error: etcd");
  // An object of no known shape still makes an error.
  absl::Status odd = WatchErrorEvent("w", Json{{"code", "x"}});
  CHECK(odd.code() == absl::StatusCode::kUnavailable);
  CHECK(odd.message() == "w: watch error: {\"code\":\"x\"}");
}

TEST_CASE("OneLine flattens whitespace, drops control characters and cuts", "[kube]") {
  CHECK(OneLine("  a\n\n b\t\x02 c  ") == "a b c");
  CHECK(OneLine("abcdef", 3) == "abc...");
  // A cut never leaves half a UTF-8 character behind.
  CHECK(OneLine("ab\xc3\xa9\xc3\xa9", 3) == "ab...");
}

}  // namespace
}  // namespace weave::kube
