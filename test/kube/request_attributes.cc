#include "test/kube/request_attributes.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "test/kube/api_error.h"
#include "test/kube/object_meta.h"
#include "test/kube/selector.h"

namespace weave::testing::kube {
namespace {

std::string VerbOfMethod(absl::string_view method) {
  if (method == "POST") return "create";
  if (method == "GET" || method == "HEAD") return "get";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return "delete";
  return "";
}

// The "<resource>/<name>/<subresource>" parts after /api/<version> or /apis/<group>/<version>
// (and a /watch/ or /proxy/ verb), with the namespace taken out.
void ReadResourceParts(std::vector<std::string> parts, RequestAttributes& out) {
  if (parts.front() == "namespaces" && parts.size() > 1) {
    out.ns = parts[1];
    // The namespace's own subresources stay namespaces/<ns>/<sub>.
    if (parts.size() > 2 && parts[2] != "status" && parts[2] != "finalize") {
      parts.erase(parts.begin(), parts.begin() + 2);
    }
  }
  if (parts.size() >= 3 && out.verb != "proxy") out.subresource = parts[2];
  if (parts.size() >= 2) out.name = parts[1];
  out.resource = parts[0];
}

}  // namespace

RequestAttributes RequestAttributesOf(const RestRequest& request, UserInfo user) {
  RequestAttributes out;
  out.user = std::move(user);
  out.path = request.path;
  out.verb = absl::AsciiStrToLower(request.method);
  absl::string_view trimmed = request.path;
  while (absl::ConsumePrefix(&trimmed, "/")) {
  }
  while (absl::ConsumeSuffix(&trimmed, "/")) {
  }
  std::vector<std::string> parts = absl::StrSplit(trimmed, '/');
  if (parts.size() < 3 || (parts[0] != "api" && parts[0] != "apis")) return out;
  const bool grouped = parts[0] == "apis";
  parts.erase(parts.begin());
  if (grouped) {
    if (parts.size() < 3) return out;
    out.api_group = parts[0];
    parts.erase(parts.begin());
  }
  out.resource_request = true;
  parts.erase(parts.begin());  // the version
  if (parts.front() == "watch" || parts.front() == "proxy") {
    out.verb = parts.front();
    parts.erase(parts.begin());
    // The real parser rejects a bare /watch; nothing can be served there, so no resource.
    if (parts.empty()) return out;
  } else {
    out.verb = VerbOfMethod(request.method);
  }
  ReadResourceParts(std::move(parts), out);
  if (out.name.empty() && out.verb == "get") {
    out.verb = QueryFlag(request, "watch") ? "watch" : "list";
    auto it = request.query.find("fieldSelector");
    if (it != request.query.end()) {
      std::optional<std::string> name = FieldSelector::RequiredValue(it->second, "metadata.name");
      if (name && PathSegmentNameProblem(*name).empty()) out.name = *name;
    }
  }
  if (out.name.empty() && out.verb == "delete") out.verb = "deletecollection";
  return out;
}

absl::Status DeniedError(const RequestAttributes& request, const Decision& decision) {
  std::string why = ForbiddenText(request);
  if (!decision.reason.empty()) absl::StrAppend(&why, ": ", decision.reason);
  if (!request.resource_request) return ForbiddenError("", "", "", why);
  return ForbiddenError(request.api_group, request.resource, request.name, why);
}

}  // namespace weave::testing::kube
