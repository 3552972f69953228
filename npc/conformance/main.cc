// npc-conformance: runs NetworkPolicy conformance cases (npc/conformance/README.md) through the
// compiler, the planner, the fake nftables backend and the independent evaluator.
//
//   npc-conformance [--verbose] [--nodes N]... [--no-mcast] PATH...
#include <iostream>

#include "CLI/CLI.hpp"
#include "npc/conformance/runner.h"

int main(int argc, char** argv) {
  using namespace weave::npc::conformance;
  CLI::App app{"Runs NetworkPolicy conformance cases against the compiler and the evaluator"};
  std::vector<std::string> paths;
  std::vector<int> layouts;
  bool verbose = false;
  app.add_option("paths", paths, "Case files or directories")->required();
  app.add_option("--nodes", layouts,
                 "Spread pods over N nodes (repeatable; default: 1 and 2)")
      ->check(CLI::Range(1, 16));
  app.add_flag("--verbose", verbose, "Print every probe's matrix");
  CLI11_PARSE(app, argc, argv);
  if (layouts.empty()) layouts = {1, 2};

  auto files = FindCaseFiles(paths);
  if (!files.ok()) {
    std::cerr << "npc-conformance: " << files.status().message() << "\n";
    return 2;
  }
  int cases = 0, failed = 0, probes = 0;
  for (const std::string& file : *files) {
    auto c = LoadCase(file);
    if (!c.ok()) {
      std::cout << "FAIL " << file << ": " << c.status().message() << "\n";
      ++failed;
      continue;
    }
    ++cases;
    bool passed = true;
    for (int nodes : layouts) {
      if (c->nodes_pinned && nodes != layouts.front()) continue;
      CompiledDataPath data_path;
      RunResult result = RunCase(*c, data_path, {.nodes = nodes, .verbose = verbose});
      probes += result.probes;
      if (!result.passed) passed = false;
      if (!result.passed || verbose) std::cout << result.report;
    }
    std::cout << (passed ? "ok   " : "FAIL ") << file << " (" << c->name << ")\n";
    if (!passed) ++failed;
  }
  std::cout << cases << " cases, " << probes << " connections judged, " << failed << " failed\n";
  return failed == 0 && cases > 0 ? 0 : 1;
}
