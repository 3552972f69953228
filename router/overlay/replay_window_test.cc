#include "router/overlay/replay_window.h"

#include <catch2/catch.hpp>

namespace weave::overlay {
namespace {

// Check, then Accept if new: what the receive path does with an authentic datagram.
bool Receive(ReplayWindow& window, uint64_t counter) {
  if (!window.Check(counter)) return false;
  window.Accept(counter);
  return true;
}

TEST_CASE("ReplayWindow accepts each counter once", "[replay_window]") {
  ReplayWindow window;
  CHECK(Receive(window, 0));
  CHECK_FALSE(Receive(window, 0));
  for (uint64_t c = 1; c < 5000; ++c) REQUIRE(Receive(window, c));
  for (uint64_t c = 5000 - ReplayWindow::kWindow; c < 5000; ++c) REQUIRE_FALSE(window.Check(c));
  // The first counter need not be 0 (a window is per key, the sender's counter is not).
  ReplayWindow late;
  CHECK(Receive(late, 123456789));
  CHECK_FALSE(Receive(late, 123456789));
  CHECK(Receive(late, 123456788));
}

TEST_CASE("ReplayWindow tolerates reordering within the window", "[replay_window]") {
  ReplayWindow window;
  CHECK(Receive(window, 100));
  CHECK(Receive(window, 90));
  CHECK(Receive(window, 105));
  CHECK(Receive(window, 101));
  CHECK_FALSE(Receive(window, 90));
  CHECK_FALSE(Receive(window, 101));
  // Everything between, once, in reverse order, after a jump to the window's edge.
  const uint64_t top = 100 + ReplayWindow::kWindow;
  CHECK(Receive(window, top));
  for (uint64_t c = top - 1; c > top - ReplayWindow::kWindow; --c) {
    if (c == 100 || c == 101 || c == 105) {
      REQUIRE_FALSE(Receive(window, c));
    } else {
      REQUIRE(Receive(window, c));
    }
  }
  for (uint64_t c = top - ReplayWindow::kWindow + 1; c <= top; ++c) REQUIRE_FALSE(window.Check(c));
}

TEST_CASE("ReplayWindow rejects counters too old to tell", "[replay_window]") {
  ReplayWindow window;
  CHECK(Receive(window, 10'000));
  CHECK(window.Check(10'000 - ReplayWindow::kWindow + 1));
  CHECK_FALSE(window.Check(10'000 - ReplayWindow::kWindow));
  CHECK_FALSE(window.Check(0));
  // Never seen, but behind the window: rejected.
  CHECK_FALSE(Receive(window, 1));
}

TEST_CASE("ReplayWindow forgets the bits of counters it slid past", "[replay_window]") {
  ReplayWindow window;
  // Mark every counter of the ring, then jump: the new counters that reuse the ring's words must
  // not look seen.
  for (uint64_t c = 0; c < 64 * ReplayWindow::kWords; ++c) REQUIRE(Receive(window, c));
  const uint64_t jump = 64 * ReplayWindow::kWords + 70;
  CHECK(Receive(window, jump));
  for (uint64_t c = 64 * ReplayWindow::kWords; c < jump; ++c) REQUIRE(window.Check(c));
  // A jump far beyond the ring.
  CHECK(Receive(window, uint64_t{1} << 40));
  for (uint64_t c = (uint64_t{1} << 40) - 100; c < (uint64_t{1} << 40); ++c) {
    REQUIRE(window.Check(c));
  }
  CHECK_FALSE(window.Check(uint64_t{1} << 40));
  // Accepting does not depend on Check having been called (and is idempotent).
  window.Accept((uint64_t{1} << 40) - 5);
  window.Accept((uint64_t{1} << 40) - 5);
  CHECK_FALSE(window.Check((uint64_t{1} << 40) - 5));
  CHECK(window.Check((uint64_t{1} << 40) - 6));
}

}  // namespace
}  // namespace weave::overlay
