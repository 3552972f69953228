#include "npc/router_report.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"

namespace weave::npc {

std::string RouterSocketPath(const std::string& socket) {
  absl::string_view path = socket;
  if (!absl::ConsumePrefix(&path, "unix://")) absl::ConsumePrefix(&path, "unix:");
  return std::string(path);
}

v1::PolicyStatus ToPolicyStatus(const ControllerStatus& status) {
  v1::PolicyStatus out;
  out.set_first_sync_done(status.ready);
  out.set_policies(status.policies);
  out.set_rules(status.rules);
  out.set_sets(status.sets);
  out.set_chains(status.chains);
  out.set_elements(status.elements);
  out.set_pods(status.pods);
  out.set_namespaces(status.namespaces);
  if (status.last_sync != absl::InfinitePast()) {
    out.set_last_sync_unix_seconds(absl::ToUnixSeconds(status.last_sync));
  }
  if (status.first_sync != absl::InfinitePast()) {
    out.set_first_sync_unix_seconds(absl::ToUnixSeconds(status.first_sync));
  }
  out.set_sync_errors(status.sync_errors);
  out.set_last_error(status.last_error);
  for (const auto& [key, why] : status.problems) out.add_rejected_policies(why);
  for (net::Ipv4 address : status.enforced_pods) out.add_enforced_pods(address.ToString());
  return out;
}

RouterReporter::RouterReporter(const std::string& socket, absl::Duration timeout)
    : path_(RouterSocketPath(socket)), timeout_(timeout) {
  stub_ = v1::Router::NewStub(
      grpc::CreateChannel(absl::StrCat("unix:", path_), grpc::InsecureChannelCredentials()));
}

absl::StatusOr<bool> RouterReporter::Report(const ControllerStatus& status) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  v1::ReportPolicyStatusResponse response;
  const grpc::Status result = stub_->ReportPolicyStatus(&context, ToPolicyStatus(status), &response);
  if (!result.ok()) {
    return absl::UnavailableError(absl::StrCat("reporting to the router at ", path_, ": ",
                                               result.error_message()));
  }
  return response.gate_open();
}

}  // namespace weave::npc
