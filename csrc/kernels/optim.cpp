#include "optim.h"

#include <algorithm>

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

void optim_check_buffers(OptimRule rule, const std::vector<Tensor>& bufs, size_t scalars) {
  const int r = static_cast<int>(rule);
  PYNN_CHECK(bufs.size() >= 2 && bufs.size() <= static_cast<size_t>(2 + kSlots[r]),
             "optimizer update: expected the variable, its gradient and at most ", kSlots[r], " slots, got ",
             bufs.size(), " tensors");
  PYNN_CHECK(scalars == static_cast<size_t>(kScalars[r]), "optimizer update: expected ", kScalars[r],
             " scalars, got ", scalars);
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
}

void optim_update_many(OptimRule rule, const std::vector<std::vector<Tensor>>& bufs, const std::vector<const double*>& h) {
  PYNN_ASSERT(bufs.size() == h.size());
  if (bufs.empty()) return;
  // The variables' elements laid end to end: start[v] is where variable v begins.
  std::vector<int64_t> start(bufs.size() + 1, 0);
  for (size_t v = 0; v < bufs.size(); ++v) {
    PYNN_ASSERT(bufs[v][0].dtype == bufs[0][0].dtype, "optim_update_many: one dtype");
    start[v + 1] = start[v] + bufs[v][0].numel();
  }
  const int r = static_cast<int>(rule);
  const int64_t e = bufs[0][0].elsize();
  OptimLoop loop = kernels().optim[r][bufs[0][0].dtype == DType::Float64 ? 1 : 0];
  parallel_for(start.back(), kGrainSize, [&](int64_t b, int64_t end) {
    size_t v = static_cast<size_t>(std::upper_bound(start.begin(), start.end(), b) - start.begin()) - 1;
    for (; v < bufs.size() && start[v] < end; ++v) {
      const int64_t lo = std::max(b, start[v]) - start[v], hi = std::min(end, start[v + 1]) - start[v];
      if (hi <= lo) continue;
      char* p[2 + kMaxOptimSlots] = {};
      for (size_t k = 0; k < bufs[v].size(); ++k) p[k] = bufs[v][k].data() + lo * e;
      loop(p, hi - lo, h[v]);
    }
  });
}

}  // namespace pynn
