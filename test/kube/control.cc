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

}  // namespace

RestResponse HandleControl(const RestRequest& request, Store& store, FaultInjector& faults,
                           const std::vector<std::string>& recent_requests) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/_fake/faults" && method == "POST") return AddFault(request, faults);
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
  if (path == "/_fake/requests" && method == "GET") return {200, recent_requests};
  return FailureResponse(ApiError(404, "NotFound", "no such control endpoint"));
}

}  // namespace weave::testing::kube
