// The one main() of every test binary, plus a listener that records whether the running test case
// has failed so that fixtures can dump diagnostics only when they help.

#include <atomic>

// Makes the Catch2 header below define main().
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "test/harness/test_status.h"

namespace weave::testing {
namespace {

std::atomic<bool> current_test_failed{false};

class FailureListener : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;

  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    current_test_failed = false;
    TestEventListenerBase::testCaseStarting(info);
  }

  // Called before Catch throws for a failed REQUIRE, so destructors running during that unwinding
  // already see the failure.
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    if (!stats.assertionResult.isOk()) current_test_failed = true;
    return TestEventListenerBase::assertionEnded(stats);
  }
};

CATCH_REGISTER_LISTENER(FailureListener)

}  // namespace

bool CurrentTestFailed() { return current_test_failed; }

}  // namespace weave::testing
