#include "runtime/workspace.h"

#include <cstdint>
#include <cstdlib>

#include "kernels/thread_scratch.h"

namespace nnjit {

size_t workspace_bytes_to_report(size_t needed) {
  const size_t blocks = needed == 0 ? 1 : (needed + kWorkspaceAlignment - 1) / kWorkspaceAlignment;
  return blocks * kWorkspaceAlignment;
}

namespace {
struct InternalWorkspace;  // the thread_scratch site of workspaces the library allocates
}  // namespace

nnp_status Workspace::acquire(void* buffer, size_t* size, size_t needed) {
  const size_t reported = workspace_bytes_to_report(needed);
  if (buffer == nullptr) {
    if (size != nullptr) {
      *size = reported;
      size_reported_ = true;
      return nnp_status_success;
    }
    // Kept for the calling thread's next calls (see kernels/thread_scratch.h).
    data_ = thread_scratch<InternalWorkspace>(reported);
    if (data_ == nullptr) return nnp_status_out_of_memory;
    bytes_ = reported;
    return nnp_status_success;
  }
  if (reinterpret_cast<uintptr_t>(buffer) % kWorkspaceAlignment != 0)
    return nnp_status_misaligned_buffer;
  if (size == nullptr || *size < reported) return nnp_status_insufficient_buffer;
  data_ = buffer;
  bytes_ = *size;
  return nnp_status_success;
}

}  // namespace nnjit
