#include "common/metrics/exposition.h"

#include <catch2/catch.hpp>

namespace weave::metrics {
namespace {

TEST_CASE("RenderText writes HELP, TYPE and samples with escaped labels", "[metrics]") {
  std::vector<Family> families = {
      {"weave_connections", "Number of peer-to-peer connections.", Type::kGauge,
       {{{{"state", "established"}, {"type", "fastdp"}, {"encryption", ""}}, 2},
        {{{"state", "failed"}, {"type", "say \"hi\"\n"}, {"encryption", "yes"}}, 0}}},
      {"weave_connection_terminations_total", "Number of terminated connections.",
       Type::kCounter, {{{}, 7}}},
      {"weave_ipam_unreachable_percentage", "Share of the range owned by unreachable peers.",
       Type::kGauge, {{{}, 12.5}}},
  };
  CHECK(RenderText(families) ==
        "# HELP weave_connections Number of peer-to-peer connections.\n"
        "# TYPE weave_connections gauge\n"
        "weave_connections{state=\"established\",type=\"fastdp\",encryption=\"\"} 2\n"
        "weave_connections{state=\"failed\",type=\"say \\\"hi\\\"\\n\",encryption=\"yes\"} 0\n"
        "# HELP weave_connection_terminations_total Number of terminated connections.\n"
        "# TYPE weave_connection_terminations_total counter\n"
        "weave_connection_terminations_total 7\n"
        "# HELP weave_ipam_unreachable_percentage Share of the range owned by unreachable "
        "peers.\n"
        "# TYPE weave_ipam_unreachable_percentage gauge\n"
        "weave_ipam_unreachable_percentage 12.5\n");
}

}  // namespace
}  // namespace weave::metrics
