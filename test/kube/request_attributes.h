// The authorizer's side of HTTP: what an HTTP request asks, as the real server's
// RequestInfoFactory reads it from the method, path and query, and the 403 it answers when the
// authorizer says no. Pure.
//
// Paths under /api/<version>/ and /apis/<group>/<version>/ with a resource are resource
// requests; everything else (/api, /apis/<group>/<version>, /version, /openapi/v2, /_fake/...)
// is a non-resource request whose verb is the lowercase method. Resource verbs: GET of an object
// is get, of a collection list (watch with ?watch=1 or the /watch/ path form), POST create, PUT
// update, PATCH patch, DELETE of an object delete, of a collection deletecollection. A LIST or
// WATCH with fieldSelector metadata.name=<n> names <n> (so resourceNames rules can allow it).
// /api/v1/namespaces/<ns> is in its own namespace <ns>, as on the real server.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "test/kube/rbac.h"
#include "test/kube/rest_handler.h"

namespace weave::testing::kube {

RequestAttributes RequestAttributesOf(const RestRequest& request, UserInfo user);

// The real server's 403 for a denied request: `nodes "n1" is forbidden: User "u" cannot patch
// resource "nodes/status" in API group "" at the cluster scope`, then ": <reason>" if the
// decision has one; details name the resource and object. Non-resource requests:
// `forbidden: User "u" cannot get path "/x"`.
absl::Status DeniedError(const RequestAttributes& request, const Decision& decision);

}  // namespace weave::testing::kube
