// The workspace protocol of the convolution functions (API.md):
//   buffer NULL, size non-NULL -> report the bytes needed, compute nothing;
//   both NULL                  -> use memory the library keeps per calling thread (grown on
//                                 demand, reused by the thread's later calls);
//   buffer non-NULL            -> misaligned: 54; *size too small or size NULL: 53.
#pragma once

#include <cstddef>

#include <nnpack.h>

namespace nnjit {

inline constexpr size_t kWorkspaceAlignment = 64;

// Bytes reported for a kernel set's need: at least one aligned block and a whole
// number of blocks, so that callers who allocate exactly the reported size never
// pass a NULL "buffer" for a zero-byte need (which would read as a size query).
size_t workspace_bytes_to_report(size_t needed);

class Workspace {
 public:
  // Applies the protocol for a call that needs `needed` bytes.
  nnp_status acquire(void* buffer, size_t* size, size_t needed);

  // True when the call was a size query: the size has been written, nothing else may run.
  bool size_reported() const { return size_reported_; }
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  bool size_reported_ = false;
};

}  // namespace nnjit
