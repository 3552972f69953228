// weave-npc tells the router how policy enforcement stands (gRPC ReportPolicyStatus on the
// router's root-only unix socket): after its first full sync the router opens its policy gate
// (EXPECT_NPC=1), and `weave status` shows the report in its `Service: npc` section.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "npc/controller.h"
#include "weave/router.grpc.pb.h"

namespace weave::npc {

// The router socket's path from a path or "unix:PATH" / "unix://PATH".
std::string RouterSocketPath(const std::string& socket);

// The report for `status` (pure).
v1::PolicyStatus ToPolicyStatus(const ControllerStatus& status);

class RouterReporter {
 public:
  // `socket`: a path or "unix:PATH" / "unix://PATH".
  explicit RouterReporter(const std::string& socket, absl::Duration timeout = absl::Seconds(5));

  // Sends the report; returns whether the router's gate is open. Errors name the socket.
  absl::StatusOr<bool> Report(const ControllerStatus& status);

 private:
  std::string path_;
  absl::Duration timeout_;
  std::unique_ptr<v1::Router::Stub> stub_;
};

}  // namespace weave::npc
