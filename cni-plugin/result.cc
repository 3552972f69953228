#include "cni-plugin/result.h"

#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cni-plugin/errors.h"
#include "cni-plugin/json_fields.h"
#include "common/status_macros.h"

namespace weave::cni {
namespace {

using internal::FieldPath;
using internal::GetArray;
using internal::GetObject;
using internal::GetString;
using internal::GetUnsigned;
using nlohmann::json;

std::string Element(absl::string_view path, absl::string_view key, size_t index) {
  return absl::StrCat(FieldPath(path, key), "[", index, "]");
}

absl::Status ExpectObject(const json& value, absl::string_view path) {
  if (value.is_object()) return absl::OkStatus();
  return CniStatus(kErrInvalidConfig, absl::StrCat("field \"", path, "\" must be an object"));
}

absl::StatusOr<Interface> ParseInterface(const json& value, absl::string_view path) {
  RETURN_IF_ERROR(ExpectObject(value, path));
  Interface interface;
  ASSIGN_OR_RETURN(std::optional<std::string> name, GetString(value, "name", path));
  ASSIGN_OR_RETURN(std::optional<std::string> mac, GetString(value, "mac", path));
  ASSIGN_OR_RETURN(std::optional<std::string> sandbox, GetString(value, "sandbox", path));
  ASSIGN_OR_RETURN(std::optional<uint64_t> mtu, GetUnsigned(value, "mtu", path, 65535));
  if (!name.has_value()) return internal::MissingField(FieldPath(path, "name"));
  interface.name = *name;
  interface.mac = mac.value_or("");
  interface.sandbox = sandbox.value_or("");
  interface.mtu = static_cast<uint32_t>(mtu.value_or(0));
  return interface;
}

absl::StatusOr<IpConfig> ParseIp(const json& value, absl::string_view path, size_t interfaces) {
  RETURN_IF_ERROR(ExpectObject(value, path));
  IpConfig ip;
  ASSIGN_OR_RETURN(std::optional<std::string> address, GetString(value, "address", path));
  ASSIGN_OR_RETURN(std::optional<std::string> gateway, GetString(value, "gateway", path));
  ASSIGN_OR_RETURN(std::optional<uint64_t> index,
                   GetUnsigned(value, "interface", path, std::numeric_limits<int>::max()));
  if (!address.has_value() || address->empty()) {
    return internal::MissingField(FieldPath(path, "address"));
  }
  if (index.has_value() && *index >= interfaces) {
    return CniStatus(kErrInvalidConfig,
                     absl::StrCat("field \"", FieldPath(path, "interface"), "\" is ", *index,
                                  " but there are ", interfaces, " interfaces"));
  }
  ip.address = *address;
  ip.gateway = gateway.value_or("");
  if (index.has_value()) ip.interface = static_cast<int>(*index);
  return ip;
}

absl::StatusOr<Route> ParseRoute(const json& value, absl::string_view path) {
  RETURN_IF_ERROR(ExpectObject(value, path));
  ASSIGN_OR_RETURN(std::optional<std::string> dst, GetString(value, "dst", path));
  ASSIGN_OR_RETURN(std::optional<std::string> gw, GetString(value, "gw", path));
  if (!dst.has_value() || dst->empty()) return internal::MissingField(FieldPath(path, "dst"));
  return Route{*dst, gw.value_or("")};
}

// Calls `parse(element, element_path)` for each element of the array at `key`, if any.
template <typename T, typename Parse>
absl::Status ParseEach(const json& document, absl::string_view key, absl::string_view path,
                       std::vector<T>& out, Parse parse) {
  ASSIGN_OR_RETURN(const json* array, GetArray(document, key, path));
  if (array == nullptr) return absl::OkStatus();
  for (size_t i = 0; i < array->size(); ++i) {
    ASSIGN_OR_RETURN(T value, parse((*array)[i], Element(path, key, i)));
    out.push_back(std::move(value));
  }
  return absl::OkStatus();
}

json RenderInterface(const Interface& interface, CniVersion version) {
  json out = {{"name", interface.name}};
  if (!interface.mac.empty()) out["mac"] = interface.mac;
  if (!interface.sandbox.empty()) out["sandbox"] = interface.sandbox;
  if (interface.mtu != 0 && InterfacesCarryMtu(version)) out["mtu"] = interface.mtu;
  return out;
}

json RenderIp(const IpConfig& ip, CniVersion version) {
  json out = json::object();
  if (IpsCarryVersion(version)) out["version"] = absl::StrContains(ip.address, ':') ? "6" : "4";
  out["address"] = ip.address;
  if (!ip.gateway.empty()) out["gateway"] = ip.gateway;
  if (ip.interface.has_value()) out["interface"] = *ip.interface;
  return out;
}

json RenderRoute(const Route& route) {
  json out = {{"dst", route.dst}};
  if (!route.gw.empty()) out["gw"] = route.gw;
  return out;
}

std::string Dump(const json& document) {
  return document.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

absl::StatusOr<Result> ParseResult(const json& document, absl::string_view path) {
  RETURN_IF_ERROR(ExpectObject(document, path));
  Result result;
  RETURN_IF_ERROR(ParseEach(document, "interfaces", path, result.interfaces, ParseInterface));
  const size_t interfaces = result.interfaces.size();
  RETURN_IF_ERROR(ParseEach(document, "ips", path, result.ips,
                            [interfaces](const json& value, absl::string_view element_path) {
                              return ParseIp(value, element_path, interfaces);
                            }));
  RETURN_IF_ERROR(ParseEach(document, "routes", path, result.routes, ParseRoute));
  ASSIGN_OR_RETURN(const json* dns, GetObject(document, "dns", path));
  if (dns != nullptr) result.dns = *dns;
  return result;
}

absl::StatusOr<Result> ParseResultText(absl::string_view text, absl::string_view path) {
  json document = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return CniStatus(kErrDecoding, absl::StrCat(path, " is not a JSON object"));
  }
  return ParseResult(document, path);
}

Result AppendResult(Result previous, const Result& ours) {
  const int offset = static_cast<int>(previous.interfaces.size());
  previous.interfaces.insert(previous.interfaces.end(), ours.interfaces.begin(),
                             ours.interfaces.end());
  for (IpConfig ip : ours.ips) {
    if (ip.interface.has_value()) *ip.interface += offset;
    previous.ips.push_back(std::move(ip));
  }
  previous.routes.insert(previous.routes.end(), ours.routes.begin(), ours.routes.end());
  if (previous.dns.empty()) previous.dns = ours.dns;
  return previous;
}

std::string RenderResult(const Result& result, CniVersion version) {
  json document = {{"cniVersion", std::string(VersionString(version))}};
  if (!result.interfaces.empty()) {
    json interfaces = json::array();
    for (const Interface& interface : result.interfaces) {
      interfaces.push_back(RenderInterface(interface, version));
    }
    document["interfaces"] = std::move(interfaces);
  }
  json ips = json::array();
  for (const IpConfig& ip : result.ips) ips.push_back(RenderIp(ip, version));
  document["ips"] = std::move(ips);
  json routes = json::array();
  for (const Route& route : result.routes) routes.push_back(RenderRoute(route));
  document["routes"] = std::move(routes);
  document["dns"] = result.dns.is_object() ? result.dns : json::object();
  return Dump(document);
}

std::string RenderVersionInfo(CniVersion version) {
  json supported = json::array();
  for (absl::string_view v : kSupportedVersions) supported.push_back(std::string(v));
  return Dump({{"cniVersion", std::string(VersionString(version))},
               {"supportedVersions", std::move(supported)}});
}

}  // namespace weave::cni
