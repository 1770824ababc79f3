// optim.h: fused in-place optimizer updates (Note [Fused optimizer updates]).
#pragma once

#include <vector>

#include "core/tensor.h"
#include "kernel_table.h"

namespace pynn {

// bufs = {var, grad, slots...}: contiguous, float32 or float64, one dtype and
// one size; h: the rule's scalars. Updates var and the slots in place.
void optim_update(OptimRule rule, const std::vector<Tensor>& bufs, const std::vector<double>& h);

// The most slots a rule keeps per variable, and how many scalars it takes.
int optim_max_slots(OptimRule rule);
int optim_scalars(OptimRule rule);

}  // namespace pynn
