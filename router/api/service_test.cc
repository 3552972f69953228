#include "router/api/service.h"

#include <catch2/catch.hpp>

#include "common/nft/fake_backend.h"
#include "router/npc_status.h"

namespace weave::router {
namespace {

TEST_CASE("ReportPolicyStatus opens the gate on weave-npc's first sync", "[api]") {
  nft::FakeBackend backend;
  Masquerade masquerade(&backend, {*net::Cidr::Parse("10.32.0.0/12"), true, true});
  REQUIRE(masquerade.Install({}).ok());
  NpcStatus npc(&masquerade);
  RouterConfig config;
  config.expect_npc = true;
  Router router(config, PeerName(0x42), 1, nullptr);
  RouterService service(&router, nullptr, nullptr, nullptr, nullptr);
  grpc::ServerContext context;
  v1::PolicyStatus report;
  v1::ReportPolicyStatusResponse response;

  // Before the router has wired its NpcStatus: weave-npc is told to report again.
  CHECK(service.ReportPolicyStatus(&context, &report, &response).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
  router.set_npc(&npc);

  report.set_policies(2);
  REQUIRE(service.ReportPolicyStatus(&context, &report, &response).ok());
  CHECK_FALSE(response.gate_open());
  v1::Status status;
  REQUIRE(service.GetStatus(&context, nullptr, &status).ok());
  CHECK(status.npc().policies() == 2);
  CHECK(status.npc_gate().expected());
  CHECK_FALSE(status.npc_gate().open());

  report.set_first_sync_done(true);
  REQUIRE(service.ReportPolicyStatus(&context, &report, &response).ok());
  CHECK(response.gate_open());
  absl::StatusOr<std::optional<nft::Table>> table = backend.Dump(nft::Family::kInet, "weave");
  REQUIRE(table.ok());
  CHECK(GateOpenIn(**table));

  // A failure to open is weave-npc's to retry; an open gate stays open whatever comes next.
  report.set_first_sync_done(false);
  REQUIRE(service.ReportPolicyStatus(&context, &report, &response).ok());
  CHECK(response.gate_open());
  REQUIRE(service.GetStatus(&context, nullptr, &status).ok());
  CHECK(status.npc_gate().open());
  CHECK_FALSE(status.npc().first_sync_done());
  router.set_npc(nullptr);
}

TEST_CASE("ReportPolicyStatus passes on a failure to open the gate", "[api]") {
  nft::FakeBackend backend;
  Masquerade masquerade(&backend, {*net::Cidr::Parse("10.32.0.0/12"), true, true});
  REQUIRE(masquerade.Install({}).ok());
  NpcStatus npc(&masquerade);
  Router router(RouterConfig(), PeerName(0x42), 1, nullptr);
  router.set_npc(&npc);
  RouterService service(&router, nullptr, nullptr, nullptr, nullptr);
  grpc::ServerContext context;
  v1::PolicyStatus report;
  report.set_first_sync_done(true);
  v1::ReportPolicyStatusResponse response;
  backend.FailNextApply(absl::ResourceExhaustedError("ENOBUFS: No buffer space available"));
  grpc::Status failed = service.ReportPolicyStatus(&context, &report, &response);
  CHECK(failed.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_FALSE(masquerade.gate_open());
  REQUIRE(service.ReportPolicyStatus(&context, &report, &response).ok());
  CHECK(response.gate_open());
  router.set_npc(nullptr);
}

}  // namespace
}  // namespace weave::router
