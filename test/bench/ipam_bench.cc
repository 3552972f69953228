// Benchmark (not a test): allocation latency of the distributed allocator on a warmed peer,
// with the real SQLite store (the write that makes an address durable before it is handed
// out is part of every allocation). Prints p50/p99/max for Allocate and Release.
//   build/test/ipam_bench [allocations]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ipam/ring_allocator.h"
#include "ipam/sqlite_store.h"
#include "ipam/testing/temp_dir.h"

namespace {

class NoPeers final : public weave::ipam::IpamNetwork {
 public:
  explicit NoPeers(weave::PeerName self) : self_(self) {}
  void Broadcast(const std::string&) override {}
  absl::Status Unicast(weave::PeerName, const std::string&) override {
    return absl::UnavailableError("no peers");
  }
  std::set<weave::PeerName> Reachable() override { return {self_}; }

 private:
  weave::PeerName self_;
};

void Report(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))]; };
  std::printf("%-9s n=%zu  p50 %.3f ms  p99 %.3f ms  max %.3f ms\n", what, ms.size(), at(0.50),
              at(0.99), ms.back());
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  weave::ipam::testing::TempDir dir;
  auto store = weave::ipam::SqliteStore::Open(weave::ipam::StorePath(dir.path() + "/weave-net"));
  if (!store.ok()) {
    std::fprintf(stderr, "store: %s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  const weave::PeerName self(0x02aabbccddee);
  NoPeers network(self);
  weave::ipam::InitMode init;
  init.kind = weave::ipam::InitMode::Kind::kSeed;
  init.seed = {self};
  auto allocator = weave::ipam::RingAllocator::Create(
      {*weave::net::Cidr::Parse("10.32.0.0/12"), self, 1, "bench", init}, store->get(), &network);
  if (!allocator.ok()) {
    std::fprintf(stderr, "allocator: %s\n", std::string(allocator.status().message()).c_str());
    return 1;
  }
  // Warm up: a few hundred pods already there.
  for (int i = 0; i < 300; ++i) {
    (void)(*allocator)->Allocate({absl::StrCat("warm", i), "eth0", "", ""});
  }
  std::vector<double> allocate;
  std::vector<double> release;
  for (int i = 0; i < n; ++i) {
    absl::Time t0 = absl::Now();
    auto got = (*allocator)->Allocate({absl::StrCat("pod", i), "eth0", "default", "p"});
    allocate.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
    if (!got.ok()) {
      std::fprintf(stderr, "allocate: %s\n", std::string(got.status().message()).c_str());
      return 1;
    }
  }
  for (int i = 0; i < n; ++i) {
    absl::Time t0 = absl::Now();
    (void)(*allocator)->Release(absl::StrCat("pod", i), "eth0");
    release.push_back(absl::ToDoubleMilliseconds(absl::Now() - t0));
  }
  std::printf("IPAM allocation on a warmed peer (SQLite store, 300 addresses held)\n");
  Report("allocate", allocate);
  Report("release", release);
  return 0;
}
