#pragma once

#include <cstddef>
#include <memory>

namespace pstable::detail {

/// Grows a scratch vector to at least `size` elements, to exactly that size and without copying
/// the old contents (scratch is overwritten before it is read); never shrinks it, so a buffer
/// reused across calls is allocated only when a larger one is first needed.
template <class Vector>
void grow_exact(Vector& buffer, std::size_t size) {
  if (buffer.size() < size) Vector(size).swap(buffer);
}

/// Base of a per-thread search scratch: `dirty` is set while arrays that must read zero between
/// uses are being filled, and `recover()` clears them when an exception left them half-filled.
struct ScratchBase {
  virtual ~ScratchBase() = default;
  virtual void recover() {}
  bool in_use = false;
  bool dirty = false;
};

/// Lends the calling thread's `Scratch` (one per thread and type, kept for the thread's life and
/// reused across calls), or a fresh one when the thread's is already lent (a nested search from a
/// filter callback). Returns it clean on destruction, also during unwinding.
template <class Scratch>
class ScratchLease {
 public:
  ScratchLease() {
    thread_local Scratch mine;
    if (!mine.in_use) {
      scratch_ = &mine;
    } else {
      own_ = std::make_unique<Scratch>();
      scratch_ = own_.get();
    }
    scratch_->in_use = true;
  }
  ~ScratchLease() {
    if (scratch_->dirty) {
      scratch_->recover();
      scratch_->dirty = false;
    }
    scratch_->in_use = false;
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;

  Scratch& get() noexcept { return *scratch_; }

 private:
  std::unique_ptr<Scratch> own_;
  Scratch* scratch_ = nullptr;
};

}  // namespace pstable::detail
