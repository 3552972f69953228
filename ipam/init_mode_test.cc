#include "ipam/init_mode.h"

#include <catch2/catch.hpp>

namespace weave::ipam {
namespace {

TEST_CASE("ParseInitMode reads every form", "[ipam]") {
  auto def = ParseInitMode("");
  REQUIRE(def.ok());
  CHECK(def->kind == InitMode::Kind::kConsensus);
  CHECK(def->consensus_size == 0);
  CHECK(ParseInitMode("consensus=3")->consensus_size == 3);
  CHECK(ParseInitMode("observer")->kind == InitMode::Kind::kObserver);
  auto seed = ParseInitMode("seed=::1,42:8e:e8:c4:52:1b");
  REQUIRE(seed.ok());
  CHECK(seed->ToString() == "seed=00:00:00:00:00:01,42:8e:e8:c4:52:1b");
}

TEST_CASE("ParseInitMode rejects nonsense", "[ipam]") {
  for (const char* bad : {"consensus=0", "consensus=-2", "consensus=x", "consensus=", "seed=",
                          "seed=nothex", "leader", "observer=1"}) {
    INFO(bad);
    CHECK_FALSE(ParseInitMode(bad).ok());
  }
}

}  // namespace
}  // namespace weave::ipam
