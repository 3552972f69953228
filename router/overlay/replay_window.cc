#include "router/overlay/replay_window.h"

#include <algorithm>

namespace weave::overlay {
namespace {

uint64_t Word(uint64_t counter) { return counter / 64; }
uint64_t Bit(uint64_t counter) { return uint64_t{1} << (counter % 64); }

}  // namespace

bool ReplayWindow::Check(uint64_t counter) const {
  if (empty_ || counter > highest_) return true;
  if (highest_ - counter >= kWindow) return false;
  return (bits_[Word(counter) % kWords] & Bit(counter)) == 0;
}

void ReplayWindow::Accept(uint64_t counter) {
  if (empty_ || counter > highest_) {
    // Clear the words between the old highest's and the new one's: their counters are unseen.
    const uint64_t first = empty_ ? Word(counter) : Word(highest_) + 1;
    const uint64_t count = std::min<uint64_t>(Word(counter) + 1 - first, kWords);
    for (uint64_t i = 0; i < count; ++i) bits_[(Word(counter) - i) % kWords] = 0;
    highest_ = counter;
    empty_ = false;
  }
  bits_[Word(counter) % kWords] |= Bit(counter);
}

}  // namespace weave::overlay
