#include "optim.h"

namespace pynn {

namespace {
const int kSlots[kNumOptimRules] = {1, 2, 2, 1};  // sgd, rmsprop, adam, adagrad (at most)
const int kScalars[kNumOptimRules] = {3, 4, 5, 2};
}  // namespace

int optim_max_slots(OptimRule rule) { return kSlots[static_cast<int>(rule)]; }
int optim_scalars(OptimRule rule) { return kScalars[static_cast<int>(rule)]; }

void optim_update(OptimRule rule, const std::vector<Tensor>& bufs, const std::vector<double>& h) {
  const int r = static_cast<int>(rule);
  PYNN_CHECK(bufs.size() >= 2 && bufs.size() <= static_cast<size_t>(2 + kSlots[r]),
             "optimizer update: expected the variable, its gradient and at most ", kSlots[r], " slots, got ",
             bufs.size(), " tensors");
  PYNN_CHECK(h.size() == static_cast<size_t>(kScalars[r]), "optimizer update: expected ", kScalars[r],
             " scalars, got ", h.size());
  const Tensor& var = bufs[0];
  PYNN_CHECK_KIND(TypeError, is_float(var.dtype), "optimizer update: the variable must be float32 or float64, not ",
                  dtype_name(var.dtype));
  for (const Tensor& t : bufs) {
    PYNN_CHECK_KIND(TypeError, t.dtype == var.dtype, "optimizer update: every buffer must be ", dtype_name(var.dtype),
                    ", got ", dtype_name(t.dtype));
    PYNN_CHECK(t.shape == var.shape, "optimizer update: buffer shape ", t.shape, " differs from the variable's ",
               var.shape);
    PYNN_CHECK(t.is_contiguous(), "optimizer update: buffers must be contiguous");
  }
  const int64_t n = var.numel(), e = var.elsize();
  OptimLoop loop = kernels().optim[r][var.dtype == DType::Float64 ? 1 : 0];
  parallel_for(n, kGrainSize, [&](int64_t b, int64_t end) {
    char* p[4] = {nullptr, nullptr, nullptr, nullptr};
    for (size_t k = 0; k < bufs.size(); ++k) p[k] = bufs[k].data() + b * e;
    loop(p, end - b, h.data());
  });
}

}  // namespace pynn
