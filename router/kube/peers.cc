#include "router/kube/peers.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/net/ip.h"

namespace weave::router {
namespace {

using kube::Json;

// The original's key for a peer's lock: characters outside [A-Za-z0-9-_./] become '_'.
std::string LockKey(const std::string& peer) {
  std::string key = peer;
  for (char& c : key) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == '/')) {
      c = '_';
    }
  }
  return absl::StrCat("kube-peers.weave.works/", key);
}

Json& Annotations(Json& configmap) {
  Json& metadata = configmap["metadata"];
  if (!metadata.is_object()) metadata = Json::object();
  Json& annotations = metadata["annotations"];
  if (!annotations.is_object()) annotations = Json::object();
  return annotations;
}

const Json* FindAnnotation(const Json& configmap, const std::string& key) {
  if (!configmap.is_object()) return nullptr;
  auto metadata = configmap.find("metadata");
  if (metadata == configmap.end() || !metadata->is_object()) return nullptr;
  auto annotations = metadata->find("annotations");
  if (annotations == metadata->end() || !annotations->is_object()) return nullptr;
  auto value = annotations->find(key);
  if (value == annotations->end() || !value->is_string()) return nullptr;
  return &*value;
}

void SetPeerList(Json& configmap, const std::vector<PeerEntry>& peers) {
  Json list = Json::array();
  for (const PeerEntry& peer : peers) {
    list.push_back({{"PeerName", peer.peer_name}, {"NodeName", peer.node_name}});
  }
  Annotations(configmap)[kPeersAnnotation] = Json{{"Peers", list}}.dump();
}

bool Listed(const std::vector<PeerEntry>& peers, const std::string& peer) {
  return std::any_of(peers.begin(), peers.end(),
                     [&](const PeerEntry& entry) { return entry.peer_name == peer; });
}

std::string StringField(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::vector<std::string> NodeAddresses(const std::vector<Json>& nodes) {
  std::set<std::string> out;
  for (const Json& node : nodes) {
    if (!node.is_object()) continue;
    const Json* addresses = nullptr;
    if (auto status = node.find("status"); status != node.end() && status->is_object()) {
      if (auto found = status->find("addresses"); found != status->end() && found->is_array()) {
        addresses = &*found;
      }
    }
    if (addresses == nullptr) continue;
    std::string internal;
    std::string external;
    for (const Json& address : *addresses) {
      if (!address.is_object()) continue;
      const std::string value = StringField(address, "address");
      if (!net::Ipv4::Parse(value).ok()) continue;
      const std::string type = StringField(address, "type");
      if (type == "InternalIP" && internal.empty()) internal = value;
      if (type == "ExternalIP" && external.empty()) external = value;
    }
    if (!internal.empty()) {
      out.insert(internal);
    } else if (!external.empty()) {
      out.insert(external);
    }
  }
  return {out.begin(), out.end()};
}

absl::StatusOr<std::vector<PeerEntry>> PeerList(const Json& configmap) {
  const Json* annotation = FindAnnotation(configmap, kPeersAnnotation);
  if (annotation == nullptr) return std::vector<PeerEntry>{};
  Json parsed = Json::parse(annotation->get<std::string>(), nullptr, false);
  auto bad = [] {
    return absl::InvalidArgumentError(absl::StrCat(
        "ConfigMap ", kConfigMapNamespace, "/", kConfigMapName, ": annotation ", kPeersAnnotation,
        " is not {\"Peers\":[{\"PeerName\":...,\"NodeName\":...}]}"));
  };
  if (!parsed.is_object()) return bad();
  std::vector<PeerEntry> peers;
  auto list = parsed.find("Peers");
  if (list == parsed.end() || list->is_null()) return peers;
  if (!list->is_array()) return bad();
  for (const Json& entry : *list) {
    if (!entry.is_object()) return bad();
    PeerEntry peer{StringField(entry, "PeerName"), StringField(entry, "NodeName")};
    if (peer.peer_name.empty()) return bad();
    peers.push_back(std::move(peer));
  }
  return peers;
}

Json NewConfigMap() {
  return Json{{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", {{"name", kConfigMapName}, {"namespace", kConfigMapNamespace}}}};
}

absl::StatusOr<bool> AddPeer(Json& configmap, const PeerEntry& self) {
  absl::StatusOr<std::vector<PeerEntry>> peers = PeerList(configmap);
  if (!peers.ok()) return peers.status();
  for (const PeerEntry& peer : *peers) {
    if (peer == self) return false;
  }
  peers->push_back(self);
  SetPeerList(configmap, *peers);
  return true;
}

absl::StatusOr<bool> TakeLock(Json& configmap, const std::string& candidate,
                              const std::string& self) {
  absl::StatusOr<std::vector<PeerEntry>> peers = PeerList(configmap);
  if (!peers.ok()) return peers.status();
  if (!Listed(*peers, candidate)) return false;
  const Json* holder = FindAnnotation(configmap, LockKey(candidate));
  if (holder != nullptr) {
    const std::string name = holder->get<std::string>();
    if (name == self || Listed(*peers, name)) return false;
  }
  Annotations(configmap)[LockKey(candidate)] = self;
  return true;
}

bool HoldsLock(const Json& configmap, const std::string& candidate, const std::string& self) {
  const Json* holder = FindAnnotation(configmap, LockKey(candidate));
  return holder != nullptr && holder->get<std::string>() == self;
}

absl::StatusOr<bool> RemovePeer(Json& configmap, const std::string& candidate) {
  absl::StatusOr<std::vector<PeerEntry>> peers = PeerList(configmap);
  if (!peers.ok()) return peers.status();
  bool changed = false;
  if (Listed(*peers, candidate)) {
    std::erase_if(*peers, [&](const PeerEntry& entry) { return entry.peer_name == candidate; });
    SetPeerList(configmap, *peers);
    changed = true;
  }
  if (FindAnnotation(configmap, LockKey(candidate)) != nullptr) {
    Annotations(configmap).erase(LockKey(candidate));
    changed = true;
  }
  return changed;
}

std::vector<std::string> ReclaimCandidates(const std::vector<PeerEntry>& peers,
                                           const std::vector<std::string>& node_names,
                                           const std::string& self, const std::string& self_node) {
  const std::set<std::string> nodes(node_names.begin(), node_names.end());
  std::vector<std::string> out;
  for (const PeerEntry& peer : peers) {
    if (peer.peer_name == self) continue;
    if (!nodes.count(peer.node_name) || peer.node_name == self_node) {
      out.push_back(peer.peer_name);
    }
  }
  return out;
}

bool MarkNetworkAvailable(Json& node, absl::Time now) {
  Json& status = node["status"];
  if (!status.is_object()) status = Json::object();
  Json& conditions = status["conditions"];
  if (!conditions.is_array()) conditions = Json::array();
  const std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone());
  for (Json& condition : conditions) {
    if (!condition.is_object() || StringField(condition, "type") != "NetworkUnavailable") continue;
    if (StringField(condition, "status") == "False" &&
        StringField(condition, "reason") == "WeaveIsUp") {
      return false;
    }
    condition["status"] = "False";
    condition["reason"] = "WeaveIsUp";
    condition["message"] = "Weave pod has set this";
    condition["lastTransitionTime"] = time;
    condition["lastHeartbeatTime"] = time;
    return true;
  }
  conditions.push_back({{"type", "NetworkUnavailable"},
                        {"status", "False"},
                        {"reason", "WeaveIsUp"},
                        {"message", "Weave pod has set this"},
                        {"lastTransitionTime", time},
                        {"lastHeartbeatTime", time}});
  return true;
}

}  // namespace weave::router
