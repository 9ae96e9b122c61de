#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

namespace study {

/// A progress bar on stderr that stays silent for the first two seconds, so short runs print
/// nothing, and redraws at most ten times a second.
class Progress {
 public:
  explicit Progress(double total, bool enabled = true) : total_(total), enabled_(enabled) {}
  ~Progress() { finish(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void set_label(std::string label) { label_ = std::move(label); }

  void advance(double amount) {
    done_ += amount;
    const double now = elapsed();
    if (!enabled_ || now < kQuietSeconds || now - last_draw_ < 0.1) return;
    last_draw_ = now;
    drawn_ = true;
    const double fraction = total_ > 0 ? std::min(1.0, done_ / total_) : 1.0;
    const int filled = static_cast<int>(fraction * kWidth);
    const double eta = fraction > 0 ? now * (1 - fraction) / fraction : 0;
    std::fprintf(stderr, "\r[%s%s] %5.1f%%  %6.0fs elapsed  ~%5.0fs left  %-28.28s",
                 std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(kWidth - filled), '.').c_str(),
                 100 * fraction, now, eta, label_.c_str());
    std::fflush(stderr);
  }

  void finish() {
    if (drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

 private:
  static constexpr double kQuietSeconds = 2.0;
  static constexpr int kWidth = 30;

  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

  double total_;
  bool enabled_;
  double done_ = 0;
  double last_draw_ = 0;
  bool drawn_ = false;
  std::string label_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace study
