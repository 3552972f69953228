// Named readiness conditions ("api", later "ipam"): the router is ready when all hold.
// Thread-safe.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace weave::router {

class Readiness {
 public:
  // Every condition the router waits for is declared up front, not ready.
  explicit Readiness(std::vector<std::string> conditions);

  void Set(const std::string& condition, bool ready);
  bool Ready() const;
  std::vector<std::string> NotReady() const;  // sorted names
  // Waits until `condition` holds or `deadline` passes; returns whether it holds.
  bool WaitFor(const std::string& condition, std::chrono::system_clock::time_point deadline) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::map<std::string, bool> conditions_;
};

}  // namespace weave::router
