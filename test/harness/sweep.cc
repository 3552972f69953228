// netns-sweep: removes what interrupted test runs left behind: the network namespaces and work
// directories of test processes that are gone (see test/harness/test_run.h). CTest runs it before
// and after the kernel tests (fixture netns_sweep); --all also removes those of live runs.

#include <iostream>

#include "absl/strings/string_view.h"
#include "test/harness/test_run.h"

int main(int argc, char** argv) {
  weave::testing::SweepOptions options;
  for (int i = 1; i < argc; ++i) {
    if (absl::string_view(argv[i]) == "--all") {
      options.all = true;
    } else {
      std::cerr << "usage: netns-sweep [--all]\n";
      return 2;
    }
  }
  const absl::Status swept = weave::testing::SweepStaleRuns(options, std::cout);
  if (!swept.ok()) {
    std::cerr << "netns-sweep: " << swept << "\n";
    return 1;
  }
  return 0;
}
