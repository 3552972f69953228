#include "router/pods/endpoints.h"

#include <catch2/catch.hpp>
#include <thread>

namespace weave::router {
namespace {

v1::Endpoint Pod(const std::string& id, const std::string& ip) {
  v1::Endpoint endpoint;
  endpoint.set_container_id(id);
  endpoint.set_ifname("eth0");
  endpoint.add_addresses(ip);
  return endpoint;
}

TEST_CASE("a subscriber sees the current endpoints, SYNCED, then changes", "[endpoints]") {
  EndpointRegistry registry;
  registry.Add(Pod("b", "10.32.0.2/12"));
  registry.Add(Pod("a", "10.32.0.1/12"));
  auto sub = registry.Subscribe();
  auto e1 = sub->Next(absl::Seconds(1));
  auto e2 = sub->Next(absl::Seconds(1));
  auto e3 = sub->Next(absl::Seconds(1));
  REQUIRE(e1);
  REQUIRE(e2);
  REQUIRE(e3);
  CHECK(e1->type() == v1::EndpointEvent::ADDED);
  CHECK(e1->endpoint().container_id() == "a");
  CHECK(e2->endpoint().container_id() == "b");
  CHECK(e3->type() == v1::EndpointEvent::SYNCED);
  CHECK_FALSE(sub->Next(absl::Milliseconds(10)));

  std::thread producer([&] {
    registry.Add(Pod("c", "10.32.0.3/12"));
    registry.Remove("a", "eth0");
    registry.Remove("missing", "eth0");  // no event
  });
  auto added = sub->Next(absl::Seconds(5));
  auto removed = sub->Next(absl::Seconds(5));
  producer.join();
  REQUIRE(added);
  REQUIRE(removed);
  CHECK(added->type() == v1::EndpointEvent::ADDED);
  CHECK(added->endpoint().container_id() == "c");
  CHECK(removed->type() == v1::EndpointEvent::REMOVED);
  CHECK(removed->endpoint().addresses(0) == "10.32.0.1/12");
  CHECK_FALSE(sub->Next(absl::Milliseconds(10)));
  CHECK(registry.List().size() == 2);
}

TEST_CASE("a stalled subscriber is resynchronised instead of growing without bound",
          "[endpoints]") {
  EndpointRegistry registry;
  auto sub = registry.Subscribe();
  for (size_t i = 0; i < EndpointRegistry::kMaxQueued + 5; ++i) {
    registry.Add(Pod("pod" + std::to_string(i % 3), "10.32.0.9/12"));
  }
  // Three endpoints exist: the queue holds a snapshot plus the few events since it.
  int added = 0;
  bool synced = false;
  while (auto event = sub->Next(absl::Milliseconds(10))) {
    if (event->type() == v1::EndpointEvent::SYNCED) synced = true;
    if (event->type() == v1::EndpointEvent::ADDED) added++;
  }
  CHECK(synced);
  CHECK(added < 20);
}

}  // namespace
}  // namespace weave::router
