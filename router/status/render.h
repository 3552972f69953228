// Text renderings of the router's status, in the original Weave Net's formats: the block of
// `weave status` (labels right-aligned to a 15-character column) and the sub-commands
// `weave status peers|connections|targets|ipam`. Pure functions of the status value.
#pragma once

#include <cstdint>
#include <string>

#include "weave/router.pb.h"

namespace weave::status {

// The main block, without the blank lines the CLI prints around it.
std::string RenderStatus(const v1::Status& status);
std::string RenderPeers(const v1::Status& status);
std::string RenderConnections(const v1::Status& status);
std::string RenderTargets(const v1::Status& status);
std::string RenderIpam(const v1::Status& status);

// "version check update disabled", "up to date; next check at 2026/11/26 13:49:29", ...
std::string VersionCheckText(const v1::VersionCheck& check);

// "ready", "idle", "awaiting consensus (quorum: 2, known: 1)", ...
std::string IpamStateText(const v1::IpamStatus& ipam);

// weave-npc's state as the policy gate sees it: "ready" once its first full sync is done,
// "waiting for weave-npc's first sync (new connections to local pods are blocked)", ...
std::string NpcStateText(const v1::Status& status);

// A time as every line of the status shows it: "2026/11/26 13:49:29", in the local time zone.
std::string TimeText(int64_t unix_seconds);

}  // namespace weave::status
