// Profile timing of the stages of a convolution (fields of an nnp_profile, in seconds).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace nnjit {

// Adds the wall time of a scope to one field of an nnp_profile.
class StageTimer {
 public:
  explicit StageTimer(double& seconds) : seconds_(seconds), start_(std::chrono::steady_clock::now()) {}
  ~StageTimer() {
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;

 private:
  double& seconds_;
  std::chrono::steady_clock::time_point start_;
};

// Stages that run inside the same parallel tasks (each task one block through all of them):
// the tasks add the time they spent in each stage, and at the end of the scope the scope's
// wall time is split between the profile fields in the proportion of those sums.
template <size_t Stages>
class StageShares {
 public:
  explicit StageShares(std::array<double*, Stages> fields)
      : fields_(fields), start_(std::chrono::steady_clock::now()) {}
  ~StageShares() {
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    double total = 0.0;
    for (const auto& ns : ns_) total += double(ns.load());
    if (total <= 0.0) return;
    for (size_t i = 0; i < Stages; ++i) *fields_[i] += wall * double(ns_[i].load()) / total;
  }
  StageShares(const StageShares&) = delete;
  StageShares& operator=(const StageShares&) = delete;

  void add(size_t stage, std::chrono::steady_clock::duration time) {
    ns_[stage] += std::chrono::duration_cast<std::chrono::nanoseconds>(time).count();
  }

 private:
  std::array<double*, Stages> fields_;
  std::array<std::atomic<int64_t>, Stages> ns_{};
  std::chrono::steady_clock::time_point start_;
};

}  // namespace nnjit
