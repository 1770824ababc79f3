// optim.h: fused in-place optimizer updates (Note [Fused optimizer updates]).
#pragma once

#include <vector>

#include "core/tensor.h"
#include "kernel_table.h"

namespace pynn {

// bufs = {var, grad, slots...}: contiguous, float32 or float64, one dtype and
// one size; h: the rule's scalars. Updates var and the slots in place.
void optim_update(OptimRule rule, const std::vector<Tensor>& bufs, const std::vector<double>& h);

// The updates of several variables (bufs[v] as optim_update takes them, h[v]
// their scalars) in one parallel region over all their elements: the result of
// each element is that of optim_update, whatever the split. The buffers must
// already be checked (optim_check_buffers), all of one dtype.
void optim_update_many(OptimRule rule, const std::vector<std::vector<Tensor>>& bufs,
                       const std::vector<const double*>& h);
void optim_check_buffers(OptimRule rule, const std::vector<Tensor>& bufs, size_t scalars);

// The most slots a rule keeps per variable, and how many scalars it takes.
int optim_max_slots(OptimRule rule);
int optim_scalars(OptimRule rule);

}  // namespace pynn
