// Max pooling entry point: validate and dispatch.
#include <nnpack.h>

#include "runtime/dispatch.h"
#include "runtime/export.h"
#include "runtime/library.h"
#include "runtime/validation.h"

using namespace nnjit;

NNJIT_EXPORT nnp_status nnp_max_pooling_output(size_t batch_size, size_t channels,
                                               nnp_size input_size, nnp_padding input_padding,
                                               nnp_size pooling_size, nnp_size pooling_stride,
                                               const float input[], float output[],
                                               pthreadpool_t threadpool) {
  const nnp_status status =
      validate_max_pooling(input_size, input_padding, pooling_size, pooling_stride);
  if (status != nnp_status_success) return status;
  if (batch_size == 0 || channels == 0) return nnp_status_success;  // nothing to pool
  const PoolingShape shape{batch_size, channels, input_size, input_padding, pooling_size,
                           pooling_stride};
  nnp_profile stages{};
  const ExecutionContext context{nullptr, 0, threadpool, &hardware(), &stages};
  max_pooling_kernels(shape, hardware()).run(shape, input, output, context);
  return nnp_status_success;
}
