// nnp_initialize / nnp_deinitialize and the state they guard.
#include <atomic>
#include <cstdlib>
#include <mutex>

#include <nnjit.h>
#include <nnpack.h>

#include "jit/kernel_cache.h"
#include "runtime/export.h"
#include "runtime/hardware.h"
#include "runtime/library.h"

namespace nnjit {
namespace {

std::mutex g_state_mutex;
std::atomic<bool> g_initialized{false};
Hardware g_hardware;

}  // namespace

nnp_status library_status() {
  return g_initialized.load(std::memory_order_acquire) ? nnp_status_success
                                                       : nnp_status_uninitialized;
}

const Hardware& hardware() { return g_hardware; }

}  // namespace nnjit

using namespace nnjit;

NNJIT_EXPORT nnp_status nnp_initialize(void) {
  if (g_initialized.load(std::memory_order_acquire)) return nnp_status_success;
  std::lock_guard<std::mutex> lock(g_state_mutex);
  if (!g_initialized.load(std::memory_order_relaxed)) {
    g_hardware = detect_hardware(std::getenv("NNJIT_ISA"));
    g_initialized.store(true, std::memory_order_release);
  }
  return nnp_status_success;
}

NNJIT_EXPORT nnp_status nnp_deinitialize(void) {
  std::lock_guard<std::mutex> lock(g_state_mutex);
  g_initialized.store(false, std::memory_order_release);
  jit::clear_kernel_cache();
  return nnp_status_success;
}

NNJIT_EXPORT const char* nnp_ext_isa_name(void) {
  if (library_status() != nnp_status_success) return "uninitialized";
  return isa_name(g_hardware.isa);
}
