#include "router/mesh/topology.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace weave::mesh {
namespace {

constexpr uint64_t kMaxShortId = 0xfff;

[[noreturn]] void Die(absl::string_view why) {
  std::fprintf(stderr, "mesh topology: %.*s\n", static_cast<int>(why.size()), why.data());
  std::abort();
}

void SortByRemote(std::vector<ConnectionInfo>& connections) {
  std::sort(connections.begin(), connections.end(),
            [](const ConnectionInfo& a, const ConnectionInfo& b) { return a.name < b.name; });
}

// Sorts our own connections by remote; duplicates or a loop to ourselves are bugs of ours.
std::vector<ConnectionInfo> SortedLocalConnections(std::vector<ConnectionInfo> connections,
                                                   PeerName self) {
  SortByRemote(connections);
  for (size_t i = 0; i < connections.size(); ++i) {
    if (connections[i].name == self) Die("a local connection to ourselves");
    if (i > 0 && connections[i].name == connections[i - 1].name) {
      Die(absl::StrCat("two local connections to ", connections[i].name.ToString()));
    }
  }
  return connections;
}

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("topology update: ", what));
}

absl::Status CheckName(uint64_t value, absl::string_view whose) {
  if (value == 0) return Invalid(absl::StrCat(whose, " has name 0"));
  if (value >> 48 != 0) {
    return Invalid(absl::StrCat(whose, " has name 0x", absl::Hex(value), ", wider than 48 bits"));
  }
  return absl::OkStatus();
}

absl::Status CheckRecord(const v1::PeerRecord& record, int index) {
  RETURN_IF_ERROR(CheckName(record.name(), absl::StrCat("record ", index)));
  std::string peer = absl::StrCat("peer ", PeerName(record.name()).ToString());
  if (record.short_id() > kMaxShortId) {
    return Invalid(absl::StrCat(peer, " has short id ", record.short_id(), ", wider than 12 bits"));
  }
  std::set<uint64_t> remotes;
  for (const v1::ConnectionRecord& connection : record.connections()) {
    RETURN_IF_ERROR(CheckName(connection.name(), absl::StrCat("a connection of ", peer)));
    if (connection.name() == record.name()) {
      return Invalid(absl::StrCat(peer, " lists itself as a connection"));
    }
    if (!remotes.insert(connection.name()).second) {
      return Invalid(absl::StrCat(peer, " lists a connection to ",
                                  PeerName(connection.name()).ToString(), " twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckUpdate(const v1::TopologyUpdate& update) {
  std::set<uint64_t> names;
  for (int i = 0; i < update.peers_size(); ++i) {
    const v1::PeerRecord& record = update.peers(i);
    RETURN_IF_ERROR(CheckRecord(record, i));
    if (!names.insert(record.name()).second) {
      return Invalid(absl::StrCat("two records for peer ", PeerName(record.name()).ToString()));
    }
  }
  return absl::OkStatus();
}

// `record` must have passed CheckRecord.
PeerInfo FromRecord(const v1::PeerRecord& record) {
  PeerInfo peer{.name = PeerName(record.name()),
                .nickname = record.nickname(),
                .uid = record.uid(),
                .version = record.version(),
                .short_id = static_cast<uint16_t>(record.short_id()),
                .has_short_id = record.has_short_id()};
  for (const v1::ConnectionRecord& connection : record.connections()) {
    peer.connections.push_back({.name = PeerName(connection.name()),
                                .address = connection.remote_address(),
                                .outbound = connection.outbound(),
                                .established = connection.established()});
  }
  SortByRemote(peer.connections);
  return peer;
}

void ToRecord(const PeerInfo& peer, v1::PeerRecord* record) {
  record->set_name(peer.name.value());
  record->set_nickname(peer.nickname);
  record->set_uid(peer.uid);
  record->set_version(peer.version);
  record->set_short_id(peer.short_id);
  record->set_has_short_id(peer.has_short_id);
  for (const ConnectionInfo& connection : peer.connections) {
    v1::ConnectionRecord* out = record->add_connections();
    out->set_name(connection.name.value());
    out->set_remote_address(connection.address);
    out->set_outbound(connection.outbound);
    out->set_established(connection.established);
  }
}

}  // namespace

Topology::Topology(PeerInfo self) : self_name_(self.name) {
  if (self.name.value() == 0) Die("our own name is 0");
  if (self.is_placeholder()) Die("our own uid is 0");
  if (self.short_id > kMaxShortId) Die("our own short id is wider than 12 bits");
  self.version = std::max<uint64_t>(self.version, 1);
  self.connections = SortedLocalConnections(std::move(self.connections), self.name);
  peers_.emplace(self.name, std::move(self));
  Tidy();
}

const PeerInfo& Topology::self() const { return peers_.at(self_name_); }

PeerInfo& Topology::mutable_self() { return peers_.at(self_name_); }

void Topology::BumpVersion() { ++mutable_self().version; }

bool Topology::SetLocalConnections(std::vector<ConnectionInfo> connections) {
  connections = SortedLocalConnections(std::move(connections), self_name_);
  if (connections == self().connections) return false;
  mutable_self().connections = std::move(connections);
  BumpVersion();
  Tidy();
  return true;
}

void Topology::SetShortId(uint16_t id) {
  if (id > kMaxShortId) Die(absl::StrCat("short id ", id, " is wider than 12 bits"));
  PeerInfo& self = mutable_self();
  if (self.has_short_id && self.short_id == id) return;
  self.short_id = id;
  self.has_short_id = true;
  BumpVersion();
}

bool Topology::Supersedes(const v1::PeerRecord& record) const {
  auto ours = peers_.find(PeerName(record.name()));
  if (ours == peers_.end() || ours->second.is_placeholder()) return true;
  const PeerInfo& held = ours->second;
  if (record.version() != held.version) return record.version() > held.version;
  if (record.uid() != held.uid) return record.uid() > held.uid;
  return record.has_short_id() && !held.has_short_id;
}

absl::StatusOr<v1::TopologyUpdate> Topology::Merge(const v1::TopologyUpdate& update) {
  RETURN_IF_ERROR(CheckUpdate(update));
  std::set<PeerName> changed;
  for (const v1::PeerRecord& record : update.peers()) {
    PeerName name(record.name());
    if (record.uid() == 0) continue;  // a placeholder: we learn its name from connections
    if (name == self_name_) {
      // An old incarnation of us is still gossiped about: outbid it so that our record wins.
      // (outbid wraps to 0 only for a hostile version of 2^64-1, which we then cannot beat.)
      PeerInfo& self = mutable_self();
      uint64_t outbid = record.version() + 1;
      if (record.uid() != self.uid && outbid > self.version) {
        self.version = outbid;
        changed.insert(name);
      }
      continue;
    }
    if (!Supersedes(record)) continue;
    peers_[name] = FromRecord(record);
    changed.insert(name);
  }
  if (!changed.empty()) Tidy();
  v1::TopologyUpdate forward;
  for (PeerName name : changed) ToRecord(peers_.at(name), forward.add_peers());
  return forward;
}

v1::TopologyUpdate Topology::Encode() const {
  v1::TopologyUpdate update;
  for (const auto& [name, peer] : peers_) {
    if (!peer.is_placeholder()) ToRecord(peer, update.add_peers());
  }
  return update;
}

v1::TopologyUpdate Topology::EncodeSelf() const {
  v1::TopologyUpdate update;
  ToRecord(self(), update.add_peers());
  return update;
}

std::vector<PeerInfo> Topology::Peers() const {
  std::vector<PeerInfo> peers;
  peers.reserve(peers_.size());
  for (const auto& [name, peer] : peers_) peers.push_back(peer);
  return peers;
}

const PeerInfo* Topology::Find(PeerName name) const {
  auto found = peers_.find(name);
  return found == peers_.end() ? nullptr : &found->second;
}

std::set<PeerName> Topology::Reachable() const { return ReachableFrom(Peers(), self_name_); }

std::vector<PeerName> Topology::ForgetUnreachable(absl::Time now, absl::Duration grace) {
  std::set<PeerName> reachable = Reachable();
  std::vector<PeerName> forgotten;
  for (const auto& [name, peer] : peers_) {
    if (peer.is_placeholder() || reachable.contains(name)) continue;
    auto since = unreachable_since_.try_emplace(name, now).first;
    if (now - since->second >= grace) forgotten.push_back(name);
  }
  for (PeerName name : forgotten) {
    peers_.erase(name);
    unreachable_since_.erase(name);
  }
  Tidy();
  return forgotten;
}

Routes Topology::ComputeRoutes() const { return mesh::ComputeRoutes(Peers(), self_name_); }

void Topology::Tidy() {
  std::set<PeerName> listed;
  for (const auto& [name, peer] : peers_) {
    for (const ConnectionInfo& connection : peer.connections) listed.insert(connection.name);
  }
  std::erase_if(peers_, [&](const auto& entry) {
    return entry.second.is_placeholder() && !listed.contains(entry.first);
  });
  for (PeerName name : listed) peers_.try_emplace(name, PeerInfo{.name = name});

  std::set<PeerName> reachable = Reachable();
  std::erase_if(unreachable_since_, [&](const auto& entry) {
    return reachable.contains(entry.first) || !peers_.contains(entry.first);
  });
}

}  // namespace weave::mesh
