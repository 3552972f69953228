// Who this peer is: its name (a MAC derived stably from the host), nickname and a UID that
// is new at every start so that other peers notice restarts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/peer_name.h"

namespace weave::router {

struct HostIds {
  std::string machine_id;    // <host-root>/etc/machine-id, else /var/lib/dbus/machine-id
  std::string product_uuid;  // <host-root>/sys/class/dmi/id/product_uuid, else /sys/hypervisor/uuid
};

// Reads the identifiers under `host_root`; missing files give empty strings.
HostIds ReadHostIds(const std::string& host_root);

// The same host ids always give the same name, a unicast, locally administered MAC (the
// original's derivation, so a node keeps its name across the upgrade). nullopt when both
// ids are empty.
std::optional<PeerName> PeerNameFromHostIds(const HostIds& ids);

// A random unicast, locally administered name, for hosts without ids.
PeerName RandomPeerName();

// A random non-zero UID (0 marks placeholders in the topology).
uint64_t RandomPeerUid();

}  // namespace weave::router
