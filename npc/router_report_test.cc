#include "npc/router_report.h"

#include <catch2/catch.hpp>

namespace weave::npc {
namespace {

TEST_CASE("ToPolicyStatus: every count, the times and the unenforceable policies") {
  ControllerStatus status;
  CHECK_FALSE(ToPolicyStatus(status).first_sync_done());
  CHECK(ToPolicyStatus(status).last_sync_unix_seconds() == 0);
  status.ready = true;
  status.policies = 3;
  status.rules = 20;
  status.sets = 9;
  status.chains = 5;
  status.elements = 42;
  status.pods = 7;
  status.namespaces = 2;
  status.first_sync = absl::FromUnixSeconds(1000);
  status.last_sync = absl::FromUnixSeconds(2000);
  status.sync_errors = 1;
  status.last_error = "netlink: ENOBUFS";
  status.problems["x/p"] = "NetworkPolicy x/p: spec.ingress[0]: bad";
  const v1::PolicyStatus out = ToPolicyStatus(status);
  CHECK(out.first_sync_done());
  CHECK(out.policies() == 3);
  CHECK(out.rules() == 20);
  CHECK(out.sets() == 9);
  CHECK(out.chains() == 5);
  CHECK(out.elements() == 42);
  CHECK(out.pods() == 7);
  CHECK(out.namespaces() == 2);
  CHECK(out.first_sync_unix_seconds() == 1000);
  CHECK(out.last_sync_unix_seconds() == 2000);
  CHECK(out.sync_errors() == 1);
  CHECK(out.last_error() == "netlink: ENOBUFS");
  REQUIRE(out.rejected_policies_size() == 1);
  CHECK(out.rejected_policies(0) == "NetworkPolicy x/p: spec.ingress[0]: bad");
}

TEST_CASE("RouterReporter: a router that is not there is an error naming the socket") {
  RouterReporter reporter("unix:///nonexistent/weave.sock", absl::Milliseconds(200));
  absl::StatusOr<bool> open = reporter.Report(ControllerStatus{});
  REQUIRE_FALSE(open.ok());
  CHECK_THAT(std::string(open.status().message()),
             Catch::StartsWith("reporting to the router at /nonexistent/weave.sock: "));
}

}  // namespace
}  // namespace weave::npc
