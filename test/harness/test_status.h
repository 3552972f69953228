#pragma once

namespace weave::testing {

// True once any assertion of the running Catch2 test case has failed; reset when the next test
// case starts. Fixtures read it in their destructors to decide whether to print diagnostics
// (process logs) before tearing down. During unwinding from a failed REQUIRE it is already true.
//
// Defined by weave_catch_main (test/catch_main.cc), so only test binaries can call it. Catch2 v2
// asserts from the main thread only; reading from other threads is safe but may lag.
bool CurrentTestFailed();

}  // namespace weave::testing
