#include "optim.h"

namespace pynn {

namespace {
#define PYNN_SLOTS_ENTRY(name, slots, scalars) slots,
#define PYNN_SCALARS_ENTRY(name, slots, scalars) scalars,
const int kSlots[kNumOptimRules] = {PYNN_OPTIM_RULES(PYNN_SLOTS_ENTRY)};  // at most
const int kScalars[kNumOptimRules] = {PYNN_OPTIM_RULES(PYNN_SCALARS_ENTRY)};
#define PYNN_SLOTS_CHECK(name, slots, scalars) static_assert(slots <= kMaxOptimSlots, #name);
PYNN_OPTIM_RULES(PYNN_SLOTS_CHECK)
#undef PYNN_SLOTS_CHECK
#undef PYNN_SLOTS_ENTRY
#undef PYNN_SCALARS_ENTRY
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
  for (size_t k = 0; k < bufs.size(); ++k)
    if (k != 1) tensor_check_writeable("optimizer update", bufs[k]);  // bufs[1], the gradient, is only read
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
    char* p[2 + kMaxOptimSlots] = {};
    for (size_t k = 0; k < bufs.size(); ++k) p[k] = bufs[k].data() + b * e;
    loop(p, end - b, h.data());
  });
}

}  // namespace pynn
