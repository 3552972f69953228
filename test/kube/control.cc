#include "test/kube/control.h"

#include "test/kube/api_error.h"
#include "test/kube/object_meta.h"

namespace weave::testing::kube {

using nlohmann::json;

namespace {

const json kOk = {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"}};

RestResponse AddFault(const RestRequest& request, FaultInjector& faults) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body["fault"].is_string()) {
    return FailureResponse(BadRequestError(
        "expected {\"fault\":\"403|410|500|garbage|truncate\",\"count\":N,\"pathPrefix\":\"...\","
        "\"watchesOnly\":false}"));
  }
  absl::StatusOr<FaultKind> kind = ParseFaultKind(body["fault"].get<std::string>());
  if (!kind.ok()) return FailureResponse(BadRequestError(kind.status().message()));
  Fault fault;
  fault.kind = *kind;
  if (body.contains("count") && !body["count"].is_number_integer()) {
    return FailureResponse(BadRequestError("count must be an integer"));
  }
  fault.count = body.contains("count") ? body["count"].get<int>() : 1;
  fault.path_prefix = StringField(body, "pathPrefix");
  fault.watches_only = body.contains("watchesOnly") && body["watchesOnly"] == true;
  faults.Add(fault);
  return {200, kOk};
}

RestResponse AddToken(const RestRequest& request, TokenAuthenticator& tokens) {
  json body = json::parse(request.body, nullptr, false);
  const absl::Status usage = BadRequestError(
      "expected {\"token\":\"t\",\"serviceAccount\":\"<namespace>/<name>\"} or "
      "{\"token\":\"t\",\"user\":\"u\",\"groups\":[\"g\"]}");
  const std::string token = StringField(body, "token");
  if (token.empty()) return FailureResponse(usage);
  if (const std::string account = StringField(body, "serviceAccount"); !account.empty()) {
    absl::StatusOr<UserInfo> user = ParseServiceAccountRef(account);
    if (!user.ok()) return FailureResponse(BadRequestError(user.status().message()));
    tokens.Add(token, *std::move(user));
    return {200, kOk};
  }
  UserInfo user{StringField(body, "user"), {}};
  if (user.name.empty()) return FailureResponse(usage);
  if (body.contains("groups")) {
    if (!body["groups"].is_array()) return FailureResponse(usage);
    for (const json& group : body["groups"]) {
      if (!group.is_string()) return FailureResponse(usage);
      user.groups.push_back(group.get<std::string>());
    }
  }
  tokens.Add(token, std::move(user));
  return {200, kOk};
}

}  // namespace

RestResponse HandleControl(const RestRequest& request, const ControlTargets& targets) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  Store& store = targets.store;
  FaultInjector& faults = targets.faults;
  if (path == "/_fake/faults" && method == "POST") return AddFault(request, faults);
  if (path == "/_fake/tokens" && method == "POST") return AddToken(request, targets.tokens);
  if (path == "/_fake/faults" && method == "DELETE") {
    faults.Clear();
    return {200, kOk};
  }
  if (path == "/_fake/close-watches" && method == "POST") {
    store.CloseAllWatches();
    return {200, kOk};
  }
  if (path == "/_fake/compact" && method == "POST") {
    store.CompactHistory();
    return {200, kOk};
  }
  if (path == "/_fake/objects" && method == "POST") {
    json body = json::parse(request.body, nullptr, false);
    if (body.is_discarded()) return FailureResponse(BadRequestError("the body is not valid JSON"));
    if (absl::Status s = store.Seed(body); !s.ok()) return FailureResponse(s);
    return {200, kOk};
  }
  if (path == "/_fake/requests" && method == "GET") return {200, targets.recent_requests};
  return FailureResponse(ApiError(404, "NotFound", "no such control endpoint"));
}

}  // namespace weave::testing::kube
