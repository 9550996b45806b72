// Marks the definitions of public C functions (nnp_*, pthreadpool_*). Everything else in
// libnnpack is compiled with hidden visibility, and cmake/nnpack.map keeps it that way.
#pragma once

#define NNJIT_EXPORT extern "C" __attribute__((visibility("default")))
