// The library's global state: whether nnp_initialize has run, and the hardware it found.
#pragma once

#include <nnpack.h>

#include "kernels/hardware.h"

namespace nnjit {

// nnp_status_uninitialized before nnp_initialize (and after nnp_deinitialize), else
// success. (nnjit runs on any CPU, so nnp_status_unsupported_hardware never occurs.)
nnp_status library_status();

// The hardware description; valid while the library is initialized.
const Hardware& hardware();

}  // namespace nnjit
