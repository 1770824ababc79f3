// train.h: the compiled training step of a stack of dense layers.
//
// Note [Compiled dense stack]
// A Sequential model of Dense layers trained with a softmax cross-entropy
// spends its time in GEMMs; what else costs is per-op overhead: the Python of
// the tape and the layers, a NumPy gather of the batch plus a cast, an
// allocation per activation and gradient, one call per weight for the
// optimizer. DenseStack runs a whole step in one call, on buffers it keeps:
//   gather   rows order[start, stop) of x (or the rows start..stop) into the
//            batch buffer, converting the dtype (uint8 pixels, say) on the way;
//   forward  Y_l = act_l(X_l W_l + b_l) by nn_dense_into, as the Dense layer
//            runs it (bias and activation in the GEMM's epilogue; the first
//            layer drops the input columns that are zero in the whole batch,
//            Note [Zero input columns]); the last layer stays linear;
//   loss     the fused softmax cross-entropy row kernel on the logits: per-row
//            losses and dZ = (softmax - target) / batch in one pass; the batch
//            mean, and how many rows the argmax of the softmax got right
//            (Keras' accuracy);
//   backward for l = L..1: dY_{l-1} = dZ_l W_l^T (before W_l changes), with
//            dZ_{l-1} = act'(Y_{l-1}) * dY_{l-1} applied by that GEMM's
//            epilogue; dW_l = X_l^T dZ_l (for the first layer only the rows of
//            the kept columns: the others are exactly 0); db_l = the batch sum;
//   update   W_l and b_l right away, with the fused optimizer pass (Note
//            [Fused optimizer updates]), while the gradient is still in cache.
// Every step is the same arithmetic on the same values as the Python path
// (ops.dense, ops.softmax_cross_entropy, Optimizer.update_step), so the two
// give the same numbers bit for bit: the Python path is the reference the
// tests compare this with, and the route for every model this does not cover
// (pynn/_compiled.py decides, Note [Training step] in pynn/models.py).
#pragma once

#include <mutex>
#include <vector>

#include "core/tensor.h"
#include "kernel_table.h"
#include "nn.h"

namespace pynn {

class DenseStack {
 public:
  // kernels[l]: (in_l, out_l) with in_{l+1} == out_l; biases[l]: (out_l,) or
  // an empty Tensor (no storage) for none; acts[l]: linear/relu/sigmoid/tanh,
  // the last one linear or softmax (predict applies it; the loss always reads
  // the logits). One float dtype throughout. The tensors are shared, not
  // copied: the stack updates the model's own weights.
  DenseStack(std::vector<Tensor> kernels, std::vector<Tensor> biases, std::vector<Activation> acts);

  // The optimizer: slots[v] for each variable in the order kernel_1, bias_1,
  // kernel_2, ... (biases that exist), as optim_update takes them.
  void set_optimizer(OptimRule rule, std::vector<std::vector<Tensor>> slots);

  struct Result {
    double loss;      // the batch mean of the cross-entropy
    int64_t correct;  // rows whose softmax argmax matches the target's
  };

  // One training step on the rows order[start, stop) of x and y (order: a
  // 1-D int64 tensor of row numbers, or null for the rows start..stop).
  // x: (n, in_1), any numeric dtype; y: integer class indices (n,) (float
  // indices are truncated, as the Python path casts them) or target
  // probabilities (n, classes). h: the optimizer's scalars for this step.
  Result train(const Tensor& x, const Tensor& y, const Tensor* order, int64_t start, int64_t stop,
               const std::vector<double>& h);
  // The loss and correct count of rows start..stop, no update.
  Result evaluate(const Tensor& x, const Tensor& y, int64_t start, int64_t stop);
  // The outputs (after the last activation) of rows start..stop, a new tensor.
  Tensor predict(const Tensor& x, int64_t start, int64_t stop);

 private:
  int64_t layers() const { return static_cast<int64_t>(kernels_.size()); }
  void check_x(const char* op, const Tensor& x, int64_t start, int64_t stop) const;
  void reserve(int64_t rows, bool training);
  Tensor gather_x(const Tensor& x, const Tensor* order, int64_t start, int64_t rows);
  Tensor gather_y(const Tensor& y, const Tensor* order, int64_t start, int64_t rows);
  void forward(const Tensor& x0, int64_t rows);  // fills outs_[l] (the last: logits)
  Result loss(const Tensor& target, int64_t rows, bool want_grad);  // dlogits_ gets the gradient
  void update(int64_t var, const Tensor& param, const Tensor& grad, const std::vector<double>& h);
  void update_rows(int64_t var, const Tensor& param, const Tensor& part, const std::vector<int64_t>& keep,
                   const std::vector<double>& h);

  std::vector<Tensor> kernels_, biases_;
  std::vector<Activation> acts_;
  DType dtype_;
  OptimRule rule_ = OptimRule::sgd;
  std::vector<std::vector<Tensor>> slots_;
  bool has_optimizer_ = false;
  std::mutex busy_;  // one call at a time: the buffers are shared
  // Buffers of `capacity_` rows, viewed at the batch's rows: the gathered
  // input and labels, each layer's output and the gradient flowing into it,
  // and each weight's gradient.
  int64_t capacity_ = 0;
  Tensor xbuf_, ybuf_, dlogits_, probs_, row_loss_;
  std::vector<Tensor> outs_, douts_, dkernels_;
  Tensor zero_row_;          // a row of zeros: the gradient of the rows update_rows leaves out
  DenseColumns input_cols_;  // what the first layer's forward dropped (Note [Zero input columns])
};

}  // namespace pynn
