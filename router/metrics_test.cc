#include "router/metrics.h"

#include <catch2/catch.hpp>

#include "common/metrics/exposition.h"
#include "router/http_routes.h"

namespace weave::router {
namespace {

v1::Status SampleStatus(bool ready) {
  v1::Status s;
  s.set_ready(ready);
  v1::Connection* c = s.mutable_router()->add_connections();
  c->set_state("established");
  c->set_overlay("sleeve");
  c->set_encrypted(true);
  s.mutable_router()->set_termination_count(4);
  v1::OverlayStatus* overlay = s.mutable_router()->mutable_overlay();
  overlay->set_fastdp_links(2);
  overlay->set_sleeve_links(1);
  overlay->set_fallbacks(3);
  overlay->set_sleeve_tx_bytes(1500);
  v1::IpamStatus* ipam = s.mutable_ipam();
  ipam->set_range_num_ips(1024);
  ipam->set_active_ips(7);
  v1::RingEntry* e = ipam->add_entries();
  e->set_peer("aa:aa:aa:aa:aa:aa");
  e->set_size(256);
  e->set_is_known_peer(false);
  s.mutable_router()->set_name("bb:bb:bb:bb:bb:bb");
  v1::RingEntry* mine = ipam->add_entries();
  mine->set_peer("bb:bb:bb:bb:bb:bb");
  mine->set_size(768);
  mine->set_free(760);
  mine->set_is_known_peer(true);
  return s;
}

TEST_CASE("router metrics carry the original's names and values", "[metrics]") {
  std::string text = metrics::RenderText(RouterMetrics(SampleStatus(true)));
  CHECK_THAT(text, Catch::Contains(
                       "weave_connections{state=\"established\",type=\"sleeve\",encryption=\"yes\"} 1\n"));
  CHECK_THAT(text, Catch::Contains(
                       "weave_connections{state=\"failed\",type=\"unknown\",encryption=\"\"} 0\n"));
  CHECK_THAT(text, Catch::Contains("weave_connection_terminations_total 4\n"));
  CHECK_THAT(text, Catch::Contains("weave_ips{state=\"local-used\"} 7\n"));
  CHECK_THAT(text, Catch::Contains("weave_max_ips 1024\n"));
  CHECK_THAT(text, Catch::Contains("weave_ipam_unreachable_count 1\n"));
  CHECK_THAT(text, Catch::Contains("weave_ipam_unreachable_percentage 25\n"));
  CHECK_THAT(text, Catch::Contains("weave_ready 1\n"));
  CHECK_THAT(text, Catch::Contains("weave_ipam_owned_ips 768\n"));
  CHECK_THAT(text, Catch::Contains("weave_ipam_free_ips 760\n"));
  CHECK_THAT(text, Catch::Contains("weave_overlay_links{type=\"fastdp\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("weave_overlay_links{type=\"sleeve\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("weave_fastdp_fallbacks_total 3\n"));
  CHECK_THAT(text, Catch::Contains("weave_sleeve_tx_bytes_total 1500\n"));
  CHECK_THAT(text, Catch::Contains("weave_npc_gate_open 0\n"));
}

TEST_CASE("weave_npc_gate_open follows the gate", "[metrics]") {
  v1::Status s = SampleStatus(true);
  s.mutable_npc_gate()->set_expected(true);
  s.mutable_npc_gate()->set_open(true);
  CHECK_THAT(metrics::RenderText(RouterMetrics(s)),
             Catch::Contains("# TYPE weave_npc_gate_open gauge\nweave_npc_gate_open 1\n"));
}

TEST_CASE("/status answers 503 until ready, 200 after", "[http]") {
  bool ready = false;
  std::vector<http::Route> routes = StatusRoutes([&] { return SampleStatus(ready); });
  auto status_route = std::find_if(routes.begin(), routes.end(),
                                   [](const http::Route& r) { return r.path == "/status"; });
  REQUIRE(status_route != routes.end());
  CHECK(status_route->handler(http::Request{}).status == 503);
  ready = true;
  http::Response ok = status_route->handler(http::Request{});
  CHECK(ok.status == 200);
  CHECK_THAT(ok.body, Catch::Contains("Service: router"));
  // The metrics listener serves /metrics only.
  std::vector<http::Route> metrics_routes = MetricsRoutes([&] { return SampleStatus(ready); });
  REQUIRE(metrics_routes.size() == 1);
  CHECK(metrics_routes[0].path == "/metrics");
}

}  // namespace
}  // namespace weave::router
