#include "kernels/pooling/pooling.h"

namespace nnjit::pooling {

bool is_2x2_stride_2(const PoolingShape& shape, const Hardware&) {
  return shape.pooling_size.width == 2 && shape.pooling_size.height == 2 && shape.pooling_stride.width == 2 &&
         shape.pooling_stride.height == 2 && shape.padding.top < 2 && shape.padding.right < 2 &&
         shape.padding.bottom < 2 && shape.padding.left < 2;
}

#if defined(__x86_64__)
const MaxPoolingKernelSet kMaxPooling2x2s2Avx2 = {"f32_maxpool_2x2s2__avx2", is_2x2_stride_2,
                                                  f32_maxpool_2x2s2__avx2};
#endif

}  // namespace nnjit::pooling
