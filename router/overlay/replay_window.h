// Which counters of one sender have been accepted, so that a sealed datagram is accepted once:
// a replayed datagram opens like the original, only its counter gives it away.
//
// A sliding window over the highest counter accepted so far (the ring bitmap of RFC 6479): a
// counter is new if it is above the highest, or within the kWindow counters below it and not seen
// yet. Datagrams reordered by the network or by the sender's threads (each takes counters as it
// queues, and the queues drain in their own order) arrive out of order by far less than kWindow.
// A counter further behind is rejected even if it was never seen.
//
// Check before opening (cheap rejection), Accept only after the datagram opened, so that a forged
// datagram cannot move the window. Not thread-safe; no allocation.
#pragma once

#include <array>
#include <cstdint>

namespace weave::overlay {

class ReplayWindow {
 public:
  static constexpr int kWords = 32;
  // Counters below the highest that are still remembered (the ring's words minus the current
  // one, which may be partly ahead of the highest).
  static constexpr uint64_t kWindow = (kWords - 1) * 64;

  // Whether `counter` has not been accepted and is not too old.
  bool Check(uint64_t counter) const;
  // Records `counter` as accepted (call after Check said so and the datagram opened).
  void Accept(uint64_t counter);

 private:
  bool empty_ = true;
  uint64_t highest_ = 0;
  std::array<uint64_t, kWords> bits_{};
};

}  // namespace weave::overlay
