#include "npc/model/parse.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace weave::npc {
namespace {

using Json = nlohmann::json;

// ---- Messages: "path: detail", with input quoted so that a message stays one line.

constexpr size_t kMaxQuoted = 64;

std::string Quote(absl::string_view text) {
  std::string quoted = Json(std::string(text.substr(0, kMaxQuoted)))
                           .dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace);
  return text.size() > kMaxQuoted ? absl::StrCat(quoted, "...") : quoted;
}

// A JSON value as a message shows it: strings quoted, scalars as JSON, containers by kind.
std::string Show(const Json& value) {
  if (value.is_string()) return Quote(value.get_ref<const std::string&>());
  if (value.is_number() || value.is_boolean() || value.is_null()) return value.dump();
  if (value.is_object()) return "an object";
  if (value.is_array()) return "an array";
  return value.type_name();
}

std::string Child(absl::string_view path, absl::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
}

std::string Index(absl::string_view path, size_t index) {
  return absl::StrCat(path, "[", index, "]");
}

// A map entry: metadata.labels["app"] (keys may hold dots, slashes or anything else).
std::string Entry(absl::string_view path, absl::string_view key) {
  return absl::StrCat(path, "[", Quote(key), "]");
}

absl::Status Invalid(absl::string_view path, absl::string_view detail) {
  return absl::InvalidArgumentError(path.empty() ? std::string(detail)
                                                 : absl::StrCat(path, ": ", detail));
}

// `status` (one of ours) prefixed with the object it is about: "NetworkPolicy x/y: ...".
absl::Status InObject(absl::string_view object, const absl::Status& status) {
  return absl::InvalidArgumentError(absl::StrCat(object, ": ", status.message()));
}

// ---- Typed access to fields: absent and null are "not there"; a wrong type is an error.

enum class Kind { kObject, kArray, kString, kBool };

bool Is(const Json& value, Kind kind) {
  switch (kind) {
    case Kind::kObject:
      return value.is_object();
    case Kind::kArray:
      return value.is_array();
    case Kind::kString:
      return value.is_string();
    case Kind::kBool:
      return value.is_boolean();
  }
  return false;
}

absl::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kObject:
      return "an object";
    case Kind::kArray:
      return "an array";
    case Kind::kString:
      return "a string";
    case Kind::kBool:
      return "a boolean";
  }
  return "?";
}

absl::Status WrongType(absl::string_view path, const Json& value, Kind expected) {
  return Invalid(path, absl::StrCat("expected ", KindName(expected), ", got ", Show(value)));
}

// The field `key` of `object`; nullptr when `object` is not an object or the field is absent or
// null.
const Json* Find(const Json& object, absl::string_view key) {
  if (!object.is_object()) return nullptr;
  auto field = object.find(std::string(key));
  if (field == object.end() || field->is_null()) return nullptr;
  return &*field;
}

// The field `key` of `object` (at `path`): nullptr when absent or null, an error when it is not
// of `kind`.
absl::StatusOr<const Json*> Get(const Json& object, absl::string_view path, absl::string_view key,
                                Kind kind) {
  const Json* value = Find(object, key);
  if (value != nullptr && !Is(*value, kind)) return WrongType(Child(path, key), *value, kind);
  return value;
}

// A string field; "" when absent or null.
absl::StatusOr<std::string> GetString(const Json& object, absl::string_view path,
                                      absl::string_view key) {
  ASSIGN_OR_RETURN(const Json* value, Get(object, path, key, Kind::kString));
  return value == nullptr ? std::string() : value->get<std::string>();
}

// A string field that must be there and non-empty.
absl::StatusOr<std::string> RequiredString(const Json& object, absl::string_view path,
                                           absl::string_view key) {
  ASSIGN_OR_RETURN(std::string value, GetString(object, path, key));
  if (value.empty()) return Invalid(Child(path, key), "required");
  return value;
}

absl::StatusOr<bool> GetBool(const Json& object, absl::string_view path, absl::string_view key) {
  ASSIGN_OR_RETURN(const Json* value, Get(object, path, key, Kind::kBool));
  return value != nullptr && value->get<bool>();
}

// The strings of an array field; empty when absent or null.
absl::StatusOr<std::vector<std::string>> GetStrings(const Json& object, absl::string_view path,
                                                    absl::string_view key) {
  ASSIGN_OR_RETURN(const Json* values, Get(object, path, key, Kind::kArray));
  std::vector<std::string> result;
  if (values == nullptr) return result;
  for (size_t i = 0; i < values->size(); ++i) {
    const Json& value = (*values)[i];
    if (!value.is_string()) return WrongType(Index(Child(path, key), i), value, Kind::kString);
    result.push_back(value.get<std::string>());
  }
  return result;
}

// `value` when it is a JSON integer 1..65535 (not a float, as the API server's int32 fields).
std::optional<uint16_t> PortNumber(const Json& value) {
  // Parsed text holds non-negative integers as unsigned; values built in code may be signed.
  bool in_range =
      value.is_number_unsigned()
          ? value.get<uint64_t>() >= 1 && value.get<uint64_t>() <= 65535
          : value.is_number_integer() && value.get<int64_t>() >= 1 && value.get<int64_t>() <= 65535;
  if (!in_range) return std::nullopt;
  return static_cast<uint16_t>(value.get<int64_t>());
}

std::optional<Protocol> ParseProtocol(absl::string_view text) {
  if (text == "TCP") return Protocol::kTcp;
  if (text == "UDP") return Protocol::kUdp;
  if (text == "SCTP") return Protocol::kSctp;
  return std::nullopt;
}

// ---- Names, as the API server validates them.

bool IsLowerAlnum(char c) { return absl::ascii_islower(c) || absl::ascii_isdigit(c); }
bool IsLowerAlnumOrDash(char c) { return IsLowerAlnum(c) || c == '-'; }
bool IsAlnum(char c) { return absl::ascii_isalnum(c); }
bool IsNameChar(char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; }

// Non-empty, of `inner` characters, and an `edge` character at both ends.
bool Framed(absl::string_view text, bool (*edge)(char), bool (*inner)(char)) {
  return !text.empty() && edge(text.front()) && edge(text.back()) &&
         std::all_of(text.begin(), text.end(), inner);
}

bool IsDnsLabel(absl::string_view text) {
  return text.size() <= 63 && Framed(text, IsLowerAlnum, IsLowerAlnumOrDash);
}

bool IsDnsSubdomain(absl::string_view text) {
  if (text.size() > 253) return false;
  for (absl::string_view part : absl::StrSplit(text, '.')) {
    if (!Framed(part, IsLowerAlnum, IsLowerAlnumOrDash)) return false;
  }
  return true;
}

constexpr absl::string_view kNameChars =
    "consist of alphanumeric characters, '-', '_' or '.', and start and end with an "
    "alphanumeric character";

// Why `key` is not a label key ([prefix/]name); "" when it is one.
std::string LabelKeyProblem(absl::string_view key) {
  std::vector<absl::string_view> parts = absl::StrSplit(key, '/');
  if (parts.size() > 2) return "must be a name with an optional DNS subdomain prefix and '/'";
  absl::string_view name = parts.back();
  if (parts.size() == 2 && !IsDnsSubdomain(parts.front())) {
    return "prefix part must be a lowercase DNS subdomain of at most 253 characters";
  }
  if (name.empty() || name.size() > 63) return "name part must be 1 to 63 characters";
  if (!Framed(name, IsAlnum, IsNameChar)) return absl::StrCat("name part must ", kNameChars);
  return "";
}

// Why `value` is not a label value; "" when it is one.
std::string LabelValueProblem(absl::string_view value) {
  if (value.size() > 63) return "must be at most 63 characters";
  if (!value.empty() && !Framed(value, IsAlnum, IsNameChar)) {
    return absl::StrCat("must be empty or ", kNameChars);
  }
  return "";
}

// Why `name` is not an IANA_SVC_NAME; "" when it is one.
std::string PortNameProblem(absl::string_view name) {
  if (name.empty() || name.size() > 15) return "must be 1 to 15 characters";
  if (!std::all_of(name.begin(), name.end(), IsLowerAlnumOrDash)) {
    return "must consist of lowercase letters, digits and '-'";
  }
  if (std::none_of(name.begin(), name.end(), absl::ascii_islower)) {
    return "must contain a letter";
  }
  if (name.front() == '-' || name.back() == '-' || absl::StrContains(name, "--")) {
    return "must not begin or end with '-' nor contain \"--\"";
  }
  return "";
}

absl::Status CheckLabelKey(absl::string_view key, absl::string_view path) {
  std::string problem = LabelKeyProblem(key);
  if (problem.empty()) return absl::OkStatus();
  return Invalid(path, absl::StrCat(Quote(key), " is not a valid label key: ", problem));
}

absl::Status CheckLabelValue(absl::string_view value, absl::string_view path) {
  std::string problem = LabelValueProblem(value);
  if (problem.empty()) return absl::OkStatus();
  return Invalid(path, absl::StrCat(Quote(value), " is not a valid label value: ", problem));
}

// ---- Addresses

// "address/prefix" with 1..3 digits of prefix and no NUL (which would end the text for
// inet_pton, hiding what follows it).
bool CidrShaped(absl::string_view text) {
  size_t slash = text.find('/');
  if (slash == absl::string_view::npos || absl::StrContains(text, absl::string_view("\0", 1))) {
    return false;
  }
  absl::string_view prefix = text.substr(slash + 1);
  return !prefix.empty() && prefix.size() <= 3 &&
         std::all_of(prefix.begin(), prefix.end(), absl::ascii_isdigit);
}

// An IPv4 CIDR, host bits cleared.
std::optional<net::Cidr> ParseIpv4Network(absl::string_view text) {
  if (!CidrShaped(text)) return std::nullopt;
  absl::StatusOr<net::Cidr> cidr = net::Cidr::Parse(text);
  if (!cidr.ok()) return std::nullopt;
  return cidr->Network();
}

bool StrictlyInside(const net::Cidr& inner, const net::Cidr& outer) {
  return inner.prefix_length() > outer.prefix_length() && outer.Contains(inner.network());
}

// IPv6 blocks are only validated (they match nothing here), so they need no type of their own
// in the model.
struct Ipv6Cidr {
  std::array<uint8_t, 16> address{};
  int prefix_length = 0;
};

std::optional<Ipv6Cidr> ParseIpv6Cidr(absl::string_view text) {
  if (!CidrShaped(text)) return std::nullopt;
  size_t slash = text.find('/');
  Ipv6Cidr cidr;
  std::string address(text.substr(0, slash));
  if (inet_pton(AF_INET6, address.c_str(), cidr.address.data()) != 1) return std::nullopt;
  for (char digit : text.substr(slash + 1))
    cidr.prefix_length = cidr.prefix_length * 10 + (digit - '0');
  if (cidr.prefix_length > 128) return std::nullopt;
  return cidr;
}

bool StrictlyInside(const Ipv6Cidr& inner, const Ipv6Cidr& outer) {
  if (inner.prefix_length <= outer.prefix_length) return false;
  for (int bit = 0; bit < outer.prefix_length; ++bit) {
    int mask = 0x80 >> (bit % 8);
    if ((inner.address[bit / 8] & mask) != (outer.address[bit / 8] & mask)) return false;
  }
  return true;
}

bool IsCidr(absl::string_view text) {
  return ParseIpv4Network(text).has_value() || ParseIpv6Cidr(text).has_value();
}

// A strict dotted quad; nullptr, another type or another text is no address.
std::optional<net::Ipv4> Ipv4At(const Json* value) {
  if (value == nullptr || !value->is_string()) return std::nullopt;
  const std::string& text = value->get_ref<const std::string&>();
  if (absl::StrContains(text, absl::string_view("\0", 1))) return std::nullopt;
  absl::StatusOr<net::Ipv4> ip = net::Ipv4::Parse(text);
  if (!ip.ok()) return std::nullopt;
  return *ip;
}

// ---- Metadata and labels

struct ObjectMeta {
  std::string ns;
  std::string name;
  const Json* metadata = nullptr;  // an object, inside the parsed object
};

absl::StatusOr<std::string> ReadName(const Json& metadata, absl::string_view key,
                                     bool (*valid)(absl::string_view), absl::string_view what) {
  ASSIGN_OR_RETURN(std::string name, RequiredString(metadata, "metadata", key));
  if (!valid(name)) {
    return Invalid(Child("metadata", key), absl::StrCat(Quote(name), " is not ", what));
  }
  return name;
}

// Pods and policies have a namespace (a DNS label) and a name (a DNS subdomain); namespaces
// have a name that is a DNS label.
absl::StatusOr<ObjectMeta> ReadMeta(const Json& object, bool namespaced) {
  if (!object.is_object()) return WrongType("", object, Kind::kObject);
  ObjectMeta meta;
  ASSIGN_OR_RETURN(meta.metadata, Get(object, "", "metadata", Kind::kObject));
  if (meta.metadata == nullptr) return Invalid("metadata", "required");
  constexpr absl::string_view kDnsLabel = "a lowercase DNS label of at most 63 characters";
  constexpr absl::string_view kDnsSubdomain = "a lowercase DNS subdomain of at most 253 characters";
  if (namespaced) {
    ASSIGN_OR_RETURN(meta.ns, ReadName(*meta.metadata, "namespace", IsDnsLabel, kDnsLabel));
    ASSIGN_OR_RETURN(meta.name, ReadName(*meta.metadata, "name", IsDnsSubdomain, kDnsSubdomain));
  } else {
    ASSIGN_OR_RETURN(meta.name, ReadName(*meta.metadata, "name", IsDnsLabel, kDnsLabel));
  }
  return meta;
}

// metadata.labels: an object of strings. Their syntax is the API server's business; matching
// works on any text.
absl::StatusOr<Labels> ReadLabels(const Json& metadata) {
  ASSIGN_OR_RETURN(const Json* labels, Get(metadata, "metadata", "labels", Kind::kObject));
  Labels result;
  if (labels == nullptr) return result;
  for (const auto& label : labels->items()) {
    if (!label.value().is_string()) {
      return WrongType(Entry("metadata.labels", label.key()), label.value(), Kind::kString);
    }
    result.emplace(label.key(), label.value().get<std::string>());
  }
  return result;
}

// ---- Label selectors

absl::StatusOr<Requirement::Operator> ParseOperator(absl::string_view text,
                                                    absl::string_view path) {
  if (text == "In") return Requirement::Operator::kIn;
  if (text == "NotIn") return Requirement::Operator::kNotIn;
  if (text == "Exists") return Requirement::Operator::kExists;
  if (text == "DoesNotExist") return Requirement::Operator::kDoesNotExist;
  return Invalid(path, absl::StrCat(Quote(text), " is not one of In, NotIn, Exists, DoesNotExist"));
}

absl::StatusOr<Requirement> ParseRequirement(const Json& expression, absl::string_view path) {
  if (!expression.is_object()) return WrongType(path, expression, Kind::kObject);
  Requirement requirement;
  ASSIGN_OR_RETURN(requirement.key, RequiredString(expression, path, "key"));
  RETURN_IF_ERROR(CheckLabelKey(requirement.key, Child(path, "key")));
  ASSIGN_OR_RETURN(std::string op, RequiredString(expression, path, "operator"));
  ASSIGN_OR_RETURN(requirement.op, ParseOperator(op, Child(path, "operator")));

  std::string values_path = Child(path, "values");
  ASSIGN_OR_RETURN(requirement.values, GetStrings(expression, path, "values"));
  for (size_t i = 0; i < requirement.values.size(); ++i) {
    RETURN_IF_ERROR(CheckLabelValue(requirement.values[i], Index(values_path, i)));
  }
  bool takes_values = requirement.op == Requirement::Operator::kIn ||
                      requirement.op == Requirement::Operator::kNotIn;
  if (takes_values && requirement.values.empty()) {
    return Invalid(values_path, "must be non-empty when operator is In or NotIn");
  }
  if (!takes_values && !requirement.values.empty()) {
    return Invalid(values_path, "must be empty when operator is Exists or DoesNotExist");
  }
  std::sort(requirement.values.begin(), requirement.values.end());
  requirement.values.erase(std::unique(requirement.values.begin(), requirement.values.end()),
                           requirement.values.end());
  return requirement;
}

// The selector at `object`.`key`; nullopt when absent or null.
absl::StatusOr<std::optional<LabelSelector>> OptionalSelector(const Json& object,
                                                              absl::string_view path,
                                                              absl::string_view key) {
  const Json* selector = Find(object, key);
  if (selector == nullptr) return std::optional<LabelSelector>();
  ASSIGN_OR_RETURN(LabelSelector parsed, ParseLabelSelector(*selector, Child(path, key)));
  return std::optional<LabelSelector>(std::move(parsed));
}

// ---- Pods

std::optional<ContainerPort> ReadContainerPort(const Json& port) {
  const Json* number = Find(port, "containerPort");
  const Json* name = Find(port, "name");
  const Json* protocol = Find(port, "protocol");
  std::optional<uint16_t> valid_number = number ? PortNumber(*number) : std::nullopt;
  if (!valid_number || (name && !name->is_string()) || (protocol && !protocol->is_string())) {
    return std::nullopt;
  }
  std::optional<Protocol> valid_protocol =
      protocol ? ParseProtocol(protocol->get_ref<const std::string&>()) : Protocol::kTcp;
  if (!valid_protocol) return std::nullopt;
  return ContainerPort{name ? name->get<std::string>() : "", *valid_number, *valid_protocol};
}

std::vector<ContainerPort> ReadContainerPorts(const Json& spec) {
  std::vector<ContainerPort> ports;
  for (absl::string_view list : {"containers", "initContainers"}) {
    const Json* containers = Find(spec, list);
    if (containers == nullptr || !containers->is_array()) continue;
    for (const Json& container : *containers) {
      const Json* declared = Find(container, "ports");
      if (declared == nullptr || !declared->is_array()) continue;
      for (const Json& port : *declared) {
        if (std::optional<ContainerPort> parsed = ReadContainerPort(port)) ports.push_back(*parsed);
      }
    }
  }
  return ports;
}

std::optional<net::Ipv4> ReadPodAddress(const Json& status) {
  if (std::optional<net::Ipv4> ip = Ipv4At(Find(status, "podIP"))) return ip;
  const Json* ips = Find(status, "podIPs");
  if (ips == nullptr || !ips->is_array()) return std::nullopt;
  for (const Json& entry : *ips) {
    if (std::optional<net::Ipv4> ip = Ipv4At(Find(entry, "ip"))) return ip;
  }
  return std::nullopt;
}

absl::StatusOr<Pod> ReadPod(const Json& object, const ObjectMeta& meta) {
  Pod pod;
  pod.ns = meta.ns;
  pod.name = meta.name;
  ASSIGN_OR_RETURN(pod.labels, ReadLabels(*meta.metadata));
  ASSIGN_OR_RETURN(const Json* spec, Get(object, "", "spec", Kind::kObject));
  if (spec != nullptr) {
    ASSIGN_OR_RETURN(pod.node, GetString(*spec, "spec", "nodeName"));
    ASSIGN_OR_RETURN(pod.host_network, GetBool(*spec, "spec", "hostNetwork"));
    pod.ports = ReadContainerPorts(*spec);
  }
  ASSIGN_OR_RETURN(const Json* status, Get(object, "", "status", Kind::kObject));
  if (status != nullptr) {
    ASSIGN_OR_RETURN(std::string phase, GetString(*status, "status", "phase"));
    pod.terminated = phase == "Succeeded" || phase == "Failed";
    pod.ip = ReadPodAddress(*status);
  }
  return pod;
}

// ---- Namespaces

constexpr absl::string_view kLegacyPolicyAnnotation = "net.beta.kubernetes.io/network-policy";

bool IsLegacyDefaultDeny(const std::string& annotation) {
  Json policy = Json::parse(annotation, /*cb=*/nullptr, /*allow_exceptions=*/false);
  const Json* ingress = Find(policy, "ingress");
  const Json* isolation = ingress ? Find(*ingress, "isolation") : nullptr;
  return isolation != nullptr && isolation->is_string() &&
         isolation->get_ref<const std::string&>() == "DefaultDeny";
}

absl::StatusOr<Namespace> ReadNamespace(const ObjectMeta& meta) {
  Namespace ns;
  ns.name = meta.name;
  ASSIGN_OR_RETURN(ns.labels, ReadLabels(*meta.metadata));
  ASSIGN_OR_RETURN(const Json* annotations,
                   Get(*meta.metadata, "metadata", "annotations", Kind::kObject));
  const Json* policy = annotations ? Find(*annotations, kLegacyPolicyAnnotation) : nullptr;
  if (policy == nullptr) return ns;
  if (!policy->is_string()) {
    return WrongType(Entry("metadata.annotations", kLegacyPolicyAnnotation), *policy,
                     Kind::kString);
  }
  ns.legacy_default_deny = IsLegacyDefaultDeny(policy->get_ref<const std::string&>());
  return ns;
}

// ---- NetworkPolicies

struct Directions {
  bool ingress = false;
  bool egress = false;
};

// spec.policyTypes, defaulted as the API server does when absent or empty.
absl::StatusOr<Directions> ReadDirections(const Json& spec) {
  ASSIGN_OR_RETURN(std::vector<std::string> types, GetStrings(spec, "spec", "policyTypes"));
  if (types.empty()) {
    const Json* egress = Find(spec, "egress");
    // A malformed egress list is a problem later; meanwhile it fails closed.
    return Directions{true, egress != nullptr && (!egress->is_array() || !egress->empty())};
  }
  if (types.size() > 2) return Invalid("spec.policyTypes", "may not have more than two values");
  Directions directions;
  for (size_t i = 0; i < types.size(); ++i) {
    if (types[i] == "Ingress") {
      directions.ingress = true;
    } else if (types[i] == "Egress") {
      directions.egress = true;
    } else {
      return Invalid(Index("spec.policyTypes", i),
                     absl::StrCat(Quote(types[i]), " is not one of Ingress, Egress"));
    }
  }
  return directions;
}

// nullopt for an IPv6 block: valid, but it matches nothing in this cluster.
absl::StatusOr<std::optional<IpBlock>> ReadIpBlock(const Json& block, absl::string_view path) {
  ASSIGN_OR_RETURN(std::string cidr_text, RequiredString(block, path, "cidr"));
  ASSIGN_OR_RETURN(std::vector<std::string> excepts, GetStrings(block, path, "except"));
  std::optional<net::Cidr> ipv4 = ParseIpv4Network(cidr_text);
  std::optional<Ipv6Cidr> ipv6 = ipv4 ? std::nullopt : ParseIpv6Cidr(cidr_text);
  if (!ipv4 && !ipv6) {
    return Invalid(Child(path, "cidr"), absl::StrCat(Quote(cidr_text), " is not a CIDR"));
  }
  IpBlock result;
  if (ipv4) result.cidr = *ipv4;
  for (size_t i = 0; i < excepts.size(); ++i) {
    const std::string& text = excepts[i];
    bool inside = false;
    if (ipv4) {
      std::optional<net::Cidr> except = ParseIpv4Network(text);
      inside = except && StrictlyInside(*except, *ipv4);
      if (inside) result.except.push_back(*except);
    } else {
      std::optional<Ipv6Cidr> except = ParseIpv6Cidr(text);
      inside = except && StrictlyInside(*except, *ipv6);
    }
    if (!inside) {
      std::string why = IsCidr(text) ? absl::StrCat(" is not strictly inside ", Quote(cidr_text))
                                     : " is not a CIDR";
      return Invalid(Index(Child(path, "except"), i), absl::StrCat(Quote(text), why));
    }
  }
  if (ipv6) return std::optional<IpBlock>();
  return std::optional<IpBlock>(std::move(result));
}

// nullopt for a peer that matches nothing here (an IPv6 ipBlock).
absl::StatusOr<std::optional<PolicyPeer>> ReadPeer(const Json& peer, absl::string_view path) {
  if (!peer.is_object()) return WrongType(path, peer, Kind::kObject);
  PolicyPeer result;
  ASSIGN_OR_RETURN(result.pod_selector, OptionalSelector(peer, path, "podSelector"));
  ASSIGN_OR_RETURN(result.namespace_selector, OptionalSelector(peer, path, "namespaceSelector"));
  ASSIGN_OR_RETURN(const Json* ip_block, Get(peer, path, "ipBlock", Kind::kObject));
  bool selects = result.pod_selector || result.namespace_selector;
  if (!selects && ip_block == nullptr) {
    return Invalid(path, "must have a podSelector, a namespaceSelector or an ipBlock");
  }
  if (selects && ip_block != nullptr) {
    return Invalid(path,
                   "may not have an ipBlock together with a podSelector or namespaceSelector");
  }
  if (ip_block != nullptr) {
    ASSIGN_OR_RETURN(result.ip_block, ReadIpBlock(*ip_block, Child(path, "ipBlock")));
    if (!result.ip_block) return std::optional<PolicyPeer>();
  }
  return std::optional<PolicyPeer>(std::move(result));
}

absl::StatusOr<PolicyPort> ReadPort(const Json& port, absl::string_view path) {
  if (!port.is_object()) return WrongType(path, port, Kind::kObject);
  PolicyPort result;
  ASSIGN_OR_RETURN(const Json* protocol, Get(port, path, "protocol", Kind::kString));
  if (protocol != nullptr) {
    const std::string& text = protocol->get_ref<const std::string&>();
    std::optional<Protocol> parsed = ParseProtocol(text);
    if (!parsed) {
      return Invalid(Child(path, "protocol"),
                     absl::StrCat(Quote(text), " is not one of TCP, UDP, SCTP"));
    }
    result.protocol = *parsed;
  }

  std::string port_path = Child(path, "port");
  if (const Json* number_or_name = Find(port, "port")) {
    if (number_or_name->is_string()) {
      const std::string& name = number_or_name->get_ref<const std::string&>();
      std::string problem = PortNameProblem(name);
      if (!problem.empty()) {
        return Invalid(port_path,
                       absl::StrCat(Quote(name), " is not a valid port name: ", problem));
      }
      result.port = name;
    } else if (std::optional<uint16_t> number = PortNumber(*number_or_name)) {
      result.port = *number;
    } else {
      return Invalid(port_path, absl::StrCat(Show(*number_or_name),
                                             " is neither a port number 1..65535 nor a name"));
    }
  }

  if (const Json* end = Find(port, "endPort")) {
    std::string end_path = Child(path, "endPort");
    std::optional<uint16_t> end_port = PortNumber(*end);
    if (!end_port) {
      return Invalid(end_path, absl::StrCat(Show(*end), " is not a port number 1..65535"));
    }
    const uint16_t* start = std::get_if<uint16_t>(&result.port);
    if (start == nullptr) return Invalid(end_path, "may only be given with a numeric port");
    if (*end_port < *start) {
      return Invalid(end_path, absl::StrCat(*end_port, " is less than port ", *start));
    }
    result.end_port = end_port;
  }
  return result;
}

// nullopt for a rule whose peers all match nothing here: it allows nothing, whereas a rule
// without peers would allow every address.
absl::StatusOr<std::optional<PolicyRule>> ReadRule(const Json& rule, absl::string_view path,
                                                   absl::string_view peers_key) {
  if (!rule.is_object()) return WrongType(path, rule, Kind::kObject);
  ASSIGN_OR_RETURN(const Json* peers, Get(rule, path, peers_key, Kind::kArray));
  ASSIGN_OR_RETURN(const Json* ports, Get(rule, path, "ports", Kind::kArray));
  PolicyRule result;
  if (peers != nullptr) {
    for (size_t i = 0; i < peers->size(); ++i) {
      ASSIGN_OR_RETURN(std::optional<PolicyPeer> peer,
                       ReadPeer((*peers)[i], Index(Child(path, peers_key), i)));
      if (peer) result.peers.push_back(*std::move(peer));
    }
  }
  if (ports != nullptr) {
    for (size_t i = 0; i < ports->size(); ++i) {
      ASSIGN_OR_RETURN(PolicyPort port, ReadPort((*ports)[i], Index(Child(path, "ports"), i)));
      result.ports.push_back(std::move(port));
    }
  }
  if (peers != nullptr && !peers->empty() && result.peers.empty()) {
    return std::optional<PolicyRule>();
  }
  return std::optional<PolicyRule>(std::move(result));
}

// spec.ingress (peers under "from") or spec.egress (under "to").
absl::StatusOr<std::vector<PolicyRule>> ReadRules(const Json& spec, absl::string_view direction,
                                                  absl::string_view peers_key) {
  ASSIGN_OR_RETURN(const Json* rules, Get(spec, "spec", direction, Kind::kArray));
  std::vector<PolicyRule> result;
  if (rules == nullptr) return result;
  for (size_t i = 0; i < rules->size(); ++i) {
    ASSIGN_OR_RETURN(std::optional<PolicyRule> rule,
                     ReadRule((*rules)[i], Index(Child("spec", direction), i), peers_key));
    if (rule) result.push_back(*std::move(rule));
  }
  return result;
}

// Directions and rules of `policy` from `spec`. On a problem, the directions are set (both when
// policyTypes is what is wrong) and the rules are left partly read: the caller drops them.
absl::Status ReadPolicyRules(const Json& spec, Policy& policy) {
  absl::StatusOr<Directions> directions = ReadDirections(spec);
  policy.ingress = !directions.ok() || directions->ingress;
  policy.egress = !directions.ok() || directions->egress;
  RETURN_IF_ERROR(directions.status());
  ASSIGN_OR_RETURN(policy.ingress_rules, ReadRules(spec, "ingress", "from"));
  ASSIGN_OR_RETURN(policy.egress_rules, ReadRules(spec, "egress", "to"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LabelSelector> ParseLabelSelector(const nlohmann::json& selector,
                                                 absl::string_view path) {
  if (!selector.is_object()) return WrongType(path, selector, Kind::kObject);
  LabelSelector result;
  ASSIGN_OR_RETURN(const Json* match_labels, Get(selector, path, "matchLabels", Kind::kObject));
  if (match_labels != nullptr) {
    std::string labels_path = Child(path, "matchLabels");
    // A JSON object iterates in key order: the requirements come out sorted.
    for (const auto& label : match_labels->items()) {
      RETURN_IF_ERROR(CheckLabelKey(label.key(), labels_path));
      std::string value_path = Entry(labels_path, label.key());
      if (!label.value().is_string()) return WrongType(value_path, label.value(), Kind::kString);
      const std::string& value = label.value().get_ref<const std::string&>();
      RETURN_IF_ERROR(CheckLabelValue(value, value_path));
      result.requirements.push_back({label.key(), Requirement::Operator::kIn, {value}});
    }
  }
  ASSIGN_OR_RETURN(const Json* expressions, Get(selector, path, "matchExpressions", Kind::kArray));
  if (expressions != nullptr) {
    for (size_t i = 0; i < expressions->size(); ++i) {
      ASSIGN_OR_RETURN(
          Requirement requirement,
          ParseRequirement((*expressions)[i], Index(Child(path, "matchExpressions"), i)));
      result.requirements.push_back(std::move(requirement));
    }
  }
  return result;
}

absl::StatusOr<Namespace> ParseNamespace(const nlohmann::json& object) {
  absl::StatusOr<ObjectMeta> meta = ReadMeta(object, /*namespaced=*/false);
  if (!meta.ok()) return InObject("Namespace", meta.status());
  absl::StatusOr<Namespace> ns = ReadNamespace(*meta);
  if (!ns.ok()) return InObject(absl::StrCat("Namespace ", meta->name), ns.status());
  return ns;
}

absl::StatusOr<Pod> ParsePod(const nlohmann::json& object) {
  absl::StatusOr<ObjectMeta> meta = ReadMeta(object, /*namespaced=*/true);
  if (!meta.ok()) return InObject("Pod", meta.status());
  absl::StatusOr<Pod> pod = ReadPod(object, *meta);
  if (!pod.ok()) return InObject(absl::StrCat("Pod ", meta->ns, "/", meta->name), pod.status());
  return pod;
}

absl::StatusOr<Policy> ParsePolicy(const nlohmann::json& object) {
  absl::StatusOr<ObjectMeta> meta = ReadMeta(object, /*namespaced=*/true);
  if (!meta.ok()) return InObject("NetworkPolicy", meta.status());
  Policy policy;
  policy.ns = meta->ns;
  policy.name = meta->name;
  std::string described = absl::StrCat("NetworkPolicy ", policy.Key());

  absl::StatusOr<const Json*> spec = Get(object, "", "spec", Kind::kObject);
  if (!spec.ok()) return InObject(described, spec.status());
  const Json no_spec = Json::object();
  const Json& spec_object = *spec != nullptr ? **spec : no_spec;

  absl::StatusOr<std::optional<LabelSelector>> pod_selector =
      OptionalSelector(spec_object, "spec", "podSelector");
  if (!pod_selector.ok()) return InObject(described, pod_selector.status());
  policy.pod_selector = pod_selector->value_or(LabelSelector{});

  if (absl::Status problem = ReadPolicyRules(spec_object, policy); !problem.ok()) {
    policy.ingress_rules.clear();
    policy.egress_rules.clear();
    policy.problem = std::string(InObject(described, problem).message());
  }
  return policy;
}

}  // namespace weave::npc
