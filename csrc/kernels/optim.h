// optim.h: fused in-place optimizer updates (Note [Fused optimizer updates]).
#pragma once

#include <vector>

#include "core/tensor.h"
#include "kernel_table.h"

namespace pynn {

// The updates of one or several variables in one parallel region over all
// their elements, in place: bufs[v] = {var, grad, slots...} (contiguous,
// float32 or float64, one dtype and one size), h[v] the rule's scalars for
// variable v. Each element's result does not depend on the split. The buffers
// must already be checked, with optim_check_buffers (a ValueError or TypeError
// naming the optimizer update; read-only destinations refused).
void optim_update_many(OptimRule rule, const std::vector<std::vector<Tensor>>& bufs,
                       const std::vector<const double*>& h);
void optim_check_buffers(OptimRule rule, const std::vector<Tensor>& bufs, size_t scalars);

// The most slots a rule keeps per variable, and how many scalars it takes.
int optim_max_slots(OptimRule rule);
int optim_scalars(OptimRule rule);

}  // namespace pynn
