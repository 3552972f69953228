// Text renderings of the router's status, in the original Weave Net's formats: the block of
// `weave status` (labels right-aligned to a 15-character column) and the sub-commands
// `weave status peers|connections|targets|ipam`. Pure functions of the status value.
#pragma once

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

}  // namespace weave::status
