// `weave reset`: removes everything the router made on this node: pod veths (vethwepl*),
// the overlay's VXLAN device (vxlan-*) and sleeve port (vethwe-*), the bridge, the router's nftables table and the store. Used by the router's Reset call
// and by the CLI when no router is running. Idempotent: what is already gone is fine.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "common/netlink/netlink.h"

namespace weave::router {

// Deletes pod veths, the overlay's ports and the bridge. Returns the first error after trying everything.
absl::Status TeardownLinks(netlink::Netlink& host, const std::string& bridge);

// Deletes the store file and its SQLite companions (-wal, -shm). Call with the store closed.
absl::Status RemoveStore(const std::string& store_path);

}  // namespace weave::router
