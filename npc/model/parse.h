// Reading Kubernetes objects (JSON as the API server sends them, or as a user wrote them for
// `kubectl apply`) into the model of model.h.
//
// Input comes from others and may be anything: these functions never throw and never crash,
// whatever the JSON. Errors are InvalidArgument with one line that names the object and the field
// path: `NetworkPolicy x/allow-web: spec.podSelector.matchLabels: "-app" is not a valid label
// key: ...`. Strings from the input appear in messages JSON-quoted (and cut short when long), so a
// message stays one line.
//
// Common rules:
//  - A field that is absent or `null` is "not there" (the default, or "absent" where optional).
//  - Types are strict: a string where a list is expected, a float where an integer is, a number
//    where a string is, are all wrong (never coerced).
//  - Fields the model does not use are ignored, even when malformed.
//  - metadata.name (and metadata.namespace for pods and policies) are required and validated as
//    the API server does: names are DNS subdomains, namespaces DNS labels.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "npc/model/model.h"

namespace weave::npc {

// A metav1.LabelSelector. `selector` must be an object (the caller decides what an absent or
// `null` selector means); `path` is its field path, used in messages ("spec.podSelector"; empty
// for a top-level selector, then messages begin with "matchLabels..."). Validated as the API
// server does: keys are `[prefix/]name` (name 1..63 of [A-Za-z0-9-_.], alphanumeric at both
// ends; prefix a lowercase DNS subdomain), values 0..63 of the same characters, In/NotIn need
// values and Exists/DoesNotExist take none. Unknown fields are ignored.
//
// Canonical form, so that selectors that mean the same compare equal: matchLabels requirements
// first, sorted by key, then matchExpressions in their order, each with its values sorted and
// without duplicates. `{}` is a selector without requirements (everything).
absl::StatusOr<LabelSelector> ParseLabelSelector(const nlohmann::json& selector,
                                                 absl::string_view path);

// A v1 Namespace: metadata.name, metadata.labels, and the legacy annotation
// `net.beta.kubernetes.io/network-policy`. legacy_default_deny holds when the annotation's value
// is JSON text with ingress.isolation == "DefaultDeny"; a value that is not such text is simply
// not DefaultDeny (it does not fail the namespace). Errors: the object, metadata or name is
// missing or malformed, labels are not an object of strings, annotations are not an object or the
// annotation is not a string.
absl::StatusOr<Namespace> ParseNamespace(const nlohmann::json& object);

// A v1 Pod: metadata.namespace, metadata.name, metadata.labels, spec.nodeName, spec.hostNetwork,
// status.phase (Succeeded and Failed are terminated) and the address: status.podIP when it is
// IPv4, else the first IPv4 of status.podIPs[].ip, else none (an IPv6-only pod, a pod without an
// address yet, or malformed addresses: never an error). Ports come from spec.containers[].ports[]
// and spec.initContainers[].ports[] (sidecars can serve), in that order; a malformed container or
// port (containerPort not an integer 1..65535, protocol not TCP/UDP/SCTP, name not a string) is
// skipped. Errors: malformed metadata or labels (as for namespaces), or nodeName, hostNetwork or
// phase of the wrong type.
absl::StatusOr<Pod> ParsePod(const nlohmann::json& object);

// A networking.k8s.io/v1 NetworkPolicy.
//
// Returns an error, and the caller skips the policy, only when it cannot tell which pods the
// policy isolates: malformed metadata, `spec` not an object, or an invalid spec.podSelector.
// An absent or null spec.podSelector is `{}` (all pods of the namespace), as the API server
// reads it.
//
// policyTypes absent, null or empty is defaulted as the API server does: Ingress, plus Egress
// when spec.egress is a non-empty list (or is malformed: that fails closed).
//
// Anything wrong in policyTypes or in the rules is a *problem*, not an error: the Policy comes
// back with its pod_selector, its directions, no rules at all (it allows nothing: fail closed)
// and `problem` set to the one-line message of the first thing wrong. A malformed policyTypes
// isolates in both directions. Problems, like the API server's validation: a value other than
// Ingress/Egress or more than two of them; a peer with nothing in it, or an ipBlock together
// with a selector; an invalid selector in a peer; a cidr or except that is not a CIDR, or an
// except that is not strictly inside its cidr; a protocol other than TCP/UDP/SCTP; a port that is
// neither an integer 1..65535 nor an IANA service name (1..15 of [a-z0-9-], a letter, no '-' at
// either end nor "--"; so "80" as a string is a problem); an endPort without a numeric port, below
// the port or above 65535; and anything of the wrong type.
//
// Reading of rules:
//  - ingress/egress absent, null or [] -> no rules (the policy only isolates).
//  - from/to absent, null or [] -> a rule with no peers (every address); ports absent, null or
//    [] -> no ports (every port and protocol); a port without `port` is every port of its
//    protocol; a numeric port with endPort is the range port..endPort.
//  - ipBlock cidr and except keep their prefix and lose their host bits: "10.0.0.5/24" reads as
//    10.0.0.0/24.
//  - An IPv6 ipBlock (validated like an IPv4 one) matches nothing in this IPv4 cluster: the peer
//    is dropped from its rule. A rule whose peers were *all* IPv6 is dropped as a whole: it
//    allows nothing, and a rule with no peers would mean every address.
absl::StatusOr<Policy> ParsePolicy(const nlohmann::json& object);

}  // namespace weave::npc
