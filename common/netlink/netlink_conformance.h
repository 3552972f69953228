// Scenarios every Netlink implementation must pass, run against FakeNetlink (netlink_test) and the
// kernel (netlink_netns_test), so that the fake stays as faithful as its header claims.
// Test-only: uses Catch2 assertions.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/netlink/netlink.h"

namespace weave::netlink::testing {

// Two fresh namespaces (each holding only lo) and how to reach them.
struct ConformanceEnv {
  Netlink* host = nullptr;
  Netlink* peer = nullptr;
  int peer_netns_fd = -1;  // Stands for `peer` in host->CreateVethPair.
  // Reads the hairpin mode of a bridge port in `host` (false for a link that is not a port).
  std::function<absl::StatusOr<bool>(const std::string& port)> hairpin;
};

// Links: create, read, change, delete; duplicates, missing links and invalid values.
void CheckLinkLifecycle(const ConformanceEnv& env);
// Bridges and their ports: master, hairpin, the bridge MTU rule, deleting either side.
void CheckBridgePorts(const ConformanceEnv& env);
// A veth pair whose peer is created in the other namespace with its final name.
void CheckVethAcrossNamespaces(const ConformanceEnv& env);
// Addresses, connected routes, gateway and device routes, and what flushes them.
void CheckAddressesAndRoutes(const ConformanceEnv& env);

struct ConformanceScenario {
  std::string name;
  std::function<void(const ConformanceEnv&)> check;
};

// All of the above, for a test that runs each in a fresh environment:
//   for (const auto& scenario : ConformanceScenarios()) {
//     DYNAMIC_SECTION(scenario.name) { ...make env...; scenario.check(env); }
//   }
const std::vector<ConformanceScenario>& ConformanceScenarios();

}  // namespace weave::netlink::testing
