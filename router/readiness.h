// Named readiness conditions ("api", later "ipam"): the router is ready when all hold.
// Thread-safe.
#pragma once

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

 private:
  mutable std::mutex mu_;
  std::map<std::string, bool> conditions_;
};

}  // namespace weave::router
