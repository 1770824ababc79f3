// train.cpp: DenseStack, the compiled training step (Note [Compiled dense stack] in train.h).
#include "train.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <type_traits>

#include "core/parallel.h"
#include "elementwise.h"
#include "linalg.h"
#include "optim.h"
#include "reduce.h"

namespace pynn {
namespace {

// The first `rows` rows of a C-contiguous buffer, as a view.
Tensor first_rows(const Tensor& buf, int64_t rows) {
  Tensor v = buf;
  v.shape[0] = rows;
  return v;
}

bool has(const Tensor& t) { return t.storage != nullptr; }

constexpr int64_t kAhead = 4;          // rows fetched ahead by gather_rows
constexpr int64_t kLossGrainRows = 32;  // rows of the loss per thread, at least (exp-heavy rows)

// Copies `rows` rows of src (a 1-D or 2-D tensor, rows along axis 0) into the
// contiguous dst, converting the dtype: row r is src row order[start + r], or
// start + r without an order. Rows go to threads in blocks.
void gather_rows(const Tensor& src, const Tensor& dst, const Tensor* order, int64_t start, int64_t rows) {
  const int64_t cols = src.ndim() == 2 ? src.shape[1] : 1;
  const int64_t rs = src.strides[0], cs = src.ndim() == 2 ? src.strides[1] : 0;
  const int64_t out_rs = cols * dst.elsize();
  const int64_t* idx = order ? reinterpret_cast<const int64_t*>(order->data()) + start : nullptr;
  const int64_t ostride = order ? order->strides[0] / 8 : 0;
  InnerLoop loop = kernels().cast[static_cast<int>(src.dtype)][static_cast<int>(dst.dtype)];
  const int64_t strides[2] = {dst.elsize(), cs};
  parallel_for(rows, cols > 0 ? (kGrainSize + cols - 1) / cols : rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t row = idx ? idx[r * ostride] : start + r;
      if (idx && r + kAhead < r1 && cs > 0) {  // shuffled rows are far apart: fetch a later row meanwhile
        const char* ahead = src.data() + idx[(r + kAhead) * ostride] * rs;
        for (int64_t b = 0; b < cols * cs; b += 64) __builtin_prefetch(ahead + b);
      }
      char* ptrs[2] = {dst.data() + r * out_rs, src.data() + row * rs};
      loop(ptrs, strides, cols);
    }
  });
}

}  // namespace

DenseStack::DenseStack(std::vector<Tensor> kernels, std::vector<Tensor> biases, std::vector<Activation> acts)
    : kernels_(std::move(kernels)), biases_(std::move(biases)), acts_(std::move(acts)) {
  const char* op = "DenseStack";
  PYNN_CHECK(!kernels_.empty() && biases_.size() == kernels_.size() && acts_.size() == kernels_.size(), op,
             ": expected one bias slot and one activation per kernel, got ", kernels_.size(), " kernels, ",
             biases_.size(), " biases and ", acts_.size(), " activations");
  dtype_ = kernels_[0].dtype;
  PYNN_CHECK_KIND(TypeError, is_float(dtype_), op, ": kernels must be float32 or float64, got ", dtype_name(dtype_));
  for (int64_t l = 0; l < layers(); ++l) {
    const Tensor& w = kernels_[l];
    PYNN_CHECK(w.ndim() == 2, op, ": kernel ", l, " must be 2-D, got shape ", w.shape);
    PYNN_CHECK_KIND(TypeError, w.dtype == dtype_, op, ": kernel ", l, " is ", dtype_name(w.dtype), ", expected ",
                    dtype_name(dtype_));
    PYNN_CHECK(w.is_contiguous(), op, ": kernel ", l, " must be contiguous");
    if (l > 0)
      PYNN_CHECK(w.shape[0] == kernels_[l - 1].shape[1], op, ": kernel ", l, " of shape ", w.shape,
                 " does not follow kernel ", l - 1, " of shape ", kernels_[l - 1].shape);
    const Tensor& b = biases_[l];
    if (has(b)) {
      PYNN_CHECK(b.ndim() == 1 && b.shape[0] == w.shape[1], op, ": bias ", l, " of shape ", b.shape,
                 " does not match kernel ", l, " of shape ", w.shape);
      PYNN_CHECK_KIND(TypeError, b.dtype == dtype_, op, ": bias ", l, " is ", dtype_name(b.dtype), ", expected ",
                      dtype_name(dtype_));
      PYNN_CHECK(b.is_contiguous(), op, ": bias ", l, " must be contiguous");
    }
    const Activation a = acts_[l];
    if (l + 1 < layers())
      PYNN_CHECK(a != Activation::softmax, op, ": softmax is supported only on the last layer");
    else
      PYNN_CHECK(a == Activation::linear || a == Activation::softmax, op,
                 ": the last layer's activation must be linear or softmax");
  }
}

void DenseStack::set_optimizer(OptimRule rule, std::vector<std::vector<Tensor>> slots) {
  int64_t vars = 0;
  for (int64_t l = 0; l < layers(); ++l) vars += has(biases_[l]) ? 2 : 1;
  PYNN_CHECK(static_cast<int64_t>(slots.size()) == vars, "DenseStack: expected slots for ", vars, " variables, got ",
             slots.size());
  // What optim_update would refuse, refused now: update_rows runs the rule's
  // loop itself, past optim_update's checks.
  int64_t v = 0;
  for (int64_t l = 0; l < layers(); ++l) {
    for (const Tensor* var : {&kernels_[l], &biases_[l]}) {
      if (!has(*var)) continue;
      tensor_check_writeable("DenseStack", *var);
      for (const Tensor& t : slots[v]) tensor_check_writeable("DenseStack", t);
      PYNN_CHECK(static_cast<int>(slots[v].size()) <= optim_max_slots(rule), "DenseStack: at most ",
                 optim_max_slots(rule), " slots per variable for this rule, got ", slots[v].size());
      for (const Tensor& t : slots[v]) {
        PYNN_CHECK_KIND(TypeError, t.dtype == dtype_, "DenseStack: a slot is ", dtype_name(t.dtype), ", expected ",
                        dtype_name(dtype_));
        PYNN_CHECK(t.shape == var->shape && t.is_contiguous(), "DenseStack: a slot of shape ", t.shape,
                   " for a variable of shape ", var->shape, " (slots must match and be contiguous)");
      }
      ++v;
    }
  }
  rule_ = rule;
  slots_ = std::move(slots);
  has_optimizer_ = true;
}

void DenseStack::check_x(const char* op, const Tensor& x, int64_t start, int64_t stop) const {
  PYNN_CHECK(x.ndim() == 2 && x.shape[1] == kernels_[0].shape[0], op, ": input of shape ", x.shape,
             " does not match the first kernel of shape ", kernels_[0].shape);
  PYNN_CHECK(0 <= start && start < stop && stop <= x.shape[0], op, ": rows [", start, ", ", stop,
             ") out of range for ", x.shape[0], " samples");
}

void DenseStack::reserve(int64_t rows, bool training) {
  // Buffers follow the batch: they grow to it, and shrink when a call needs
  // far fewer rows (after predict(batch_size=len(x)), say), so a model does
  // not keep a large batch's activations alive.
  if (rows > capacity_ || rows * 4 < capacity_) {
    xbuf_ = tensor_empty(Dims{rows, kernels_[0].shape[0]}, dtype_);
    ybuf_ = tensor_empty(Dims{rows * kernels_.back().shape[1]}, DType::Int64);  // labels, or probabilities
    outs_.clear();
    douts_.clear();
    for (int64_t l = 0; l < layers(); ++l) outs_.push_back(tensor_empty(Dims{rows, kernels_[l].shape[1]}, dtype_));
    const int64_t classes = kernels_.back().shape[1];
    dlogits_ = tensor_empty(Dims{rows, classes}, dtype_);
    probs_ = tensor_empty(Dims{rows, classes}, dtype_);
    row_loss_ = tensor_empty(Dims{rows}, dtype_);
    capacity_ = rows;
  }
  if (training && douts_.empty()) {  // gradients: for training only
    for (int64_t l = 0; l < layers(); ++l) douts_.push_back(tensor_empty(Dims{capacity_, kernels_[l].shape[1]}, dtype_));
    dkernels_.clear();
    for (int64_t l = 0; l < layers(); ++l) dkernels_.push_back(tensor_empty(kernels_[l].shape, dtype_));
  }
}

Tensor DenseStack::gather_x(const Tensor& x, const Tensor* order, int64_t start, int64_t rows) {
  // Rows already contiguous in the compute dtype need no copy.
  if (!order && x.dtype == dtype_ && x.is_contiguous()) {
    Tensor v = x;
    v.offset += start * x.strides[0];
    v.shape[0] = rows;
    return v;
  }
  Tensor dst = first_rows(xbuf_, rows);
  gather_rows(x, dst, order, start, rows);
  return dst;
}

Tensor DenseStack::gather_y(const Tensor& y, const Tensor* order, int64_t start, int64_t rows) {
  const int64_t classes = kernels_.back().shape[1];
  Tensor dst = ybuf_;
  if (y.ndim() == 2) {  // probabilities, in the compute dtype
    dst.dtype = dtype_;
    dst.shape = Dims{rows, classes};
    dst.strides = Dims{classes * itemsize(dtype_), itemsize(dtype_)};
  } else {  // class indices as int64
    dst.shape = Dims{rows};
    dst.strides = Dims{8};
  }
  gather_rows(y, dst, order, start, rows);
  if (y.ndim() == 1) nn_check_labels("softmax_cross_entropy", dst, classes);
  return dst;
}

void DenseStack::forward(const Tensor& x0, int64_t rows) {
  Tensor in = x0;
  for (int64_t l = 0; l < layers(); ++l) {
    const Tensor y = first_rows(outs_[l], rows);
    const Activation act = l + 1 < layers() ? acts_[l] : Activation::linear;  // the loss reads the logits
    nn_dense_into(in, kernels_[l], has(biases_[l]) ? &biases_[l] : nullptr, act, y, l == 0 ? &input_cols_ : nullptr);
    in = y;
  }
}

// The row of `x` (cols values from p) that the first maximum sits in, with
// NumPy's argmax semantics: the first NaN wins.
template <class T>
int64_t argmax_row(const T* p, int64_t cols) {
  int64_t best = 0;
  for (int64_t c = 0; c < cols; ++c) {
    if (p[c] != p[c]) return c;
    if (p[c] > p[best]) best = c;
  }
  return best;
}

DenseStack::Result DenseStack::loss(const Tensor& target, int64_t rows, bool want_grad) {
  // The fused cross-entropy row kernel (what nn_softmax_xent runs, without its
  // checks and allocations: gather_y has checked the labels) and, for Keras'
  // accuracy, the softmax probabilities and their argmax (not the logits':
  // rounding can make two probabilities equal where the logits differ); rows
  // split over the threads. Then the batch mean by the reduction
  // ops.softmax_cross_entropy uses.
  const Tensor logits = first_rows(outs_.back(), rows);
  const int64_t classes = logits.shape[1], e = itemsize(dtype_), row_bytes = classes * e;
  const int f64 = dtype_ == DType::Float64 ? 1 : 0;
  const RowsKernel kind = target.ndim() == 2 ? RowsKernel::xent_probs : RowsKernel::xent_labels;
  const RowsLoop xent = kernels().rows[static_cast<int>(kind)][f64];
  const RowsLoop softmax = kernels().rows[static_cast<int>(RowsKernel::softmax)][f64];
  std::atomic<int64_t> correct{0};
  parallel_for(rows, kLossGrainRows, [&](int64_t r0, int64_t r1) {
    RowsArgs a{};
    a.x = logits.data() + r0 * row_bytes;
    a.x_rs = row_bytes;
    a.x_cs = e;
    if (want_grad) {
      a.out = dlogits_.data() + r0 * row_bytes;
      a.out_rs = row_bytes;
      a.out_cs = e;
    }
    a.target = target.data() + r0 * target.strides[0];
    a.t_rs = target.strides[0];
    a.t_cs = target.ndim() == 2 ? target.strides[1] : 0;
    a.loss = row_loss_.data() + r0 * e;
    a.loss_s = e;
    a.rows = r1 - r0;
    a.cols = classes;
    a.scale = 1.0 / static_cast<double>(rows);
    xent(a);
    RowsArgs sm{};
    sm.x = a.x;
    sm.x_rs = row_bytes;
    sm.x_cs = e;
    sm.out = probs_.data() + r0 * row_bytes;
    sm.out_rs = row_bytes;
    sm.out_cs = e;
    sm.rows = r1 - r0;
    sm.cols = classes;
    softmax(sm);
    int64_t hits = 0;
    dispatch_dtype(dtype_, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_floating_point_v<T>) {
        const T* p = reinterpret_cast<const T*>(probs_.data());
        for (int64_t i = r0; i < r1; ++i) {
          const int64_t truth =
              target.ndim() == 2 ? argmax_row(reinterpret_cast<const T*>(target.data() + i * target.strides[0]), classes)
                                 : reinterpret_cast<const int64_t*>(target.data())[i];
          hits += argmax_row(p + i * classes, classes) == truth;
        }
      }
    });
    correct += hits;
  });
  Tensor mean = reduce(ReduceOp::mean, first_rows(row_loss_, rows), {}, true, false);
  return {dtype_ == DType::Float64 ? *reinterpret_cast<const double*>(mean.data())
                                   : *reinterpret_cast<const float*>(mean.data()),
          correct.load()};
}

void DenseStack::update(int64_t var, const Tensor& param, const Tensor& grad, const std::vector<double>& h) {
  std::vector<Tensor> bufs = {param, grad};
  bufs.insert(bufs.end(), slots_[var].begin(), slots_[var].end());
  optim_update(rule_, bufs, h);
}


void DenseStack::update_rows(int64_t var, const Tensor& param, const Tensor& part, const std::vector<int64_t>& keep,
                             const std::vector<double>& h) {
  // The gradient is part's rows at the rows `keep` and exactly 0 elsewhere
  // (Note [Zero input columns]): the optimizer's loop runs row by row, on
  // part's row or on a row of zeros, the same arithmetic as optim_update over
  // the whole gradient, without writing that gradient out first.
  const int64_t rows = param.shape[0], units = param.shape[1], row_bytes = units * param.elsize();
  if (zero_row_.numel() < units) {
    zero_row_ = tensor_empty(Dims{units}, dtype_);
    std::memset(zero_row_.data(), 0, static_cast<size_t>(row_bytes));
  }
  std::vector<int64_t> from(static_cast<size_t>(rows), -1);
  for (size_t i = 0; i < keep.size(); ++i) from[keep[i]] = static_cast<int64_t>(i);
  const OptimLoop loop = kernels().optim[static_cast<int>(rule_)][dtype_ == DType::Float64 ? 1 : 0];
  const std::vector<Tensor>& slots = slots_[var];
  parallel_for(rows, (kGrainSize + units - 1) / std::max<int64_t>(units, 1), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      char* p[2 + kMaxOptimSlots] = {param.data() + r * row_bytes,
                                      from[r] < 0 ? zero_row_.data() : part.data() + from[r] * row_bytes};
      for (size_t k = 0; k < slots.size(); ++k) p[2 + k] = slots[k].data() + r * row_bytes;
      loop(p, units, h.data());
    }
  });
}

DenseStack::Result DenseStack::train(const Tensor& x, const Tensor& y, const Tensor* order, int64_t start,
                                     int64_t stop, const std::vector<double>& h) {
  const char* op = "DenseStack.train";
  std::lock_guard<std::mutex> lock(busy_);
  PYNN_CHECK(has_optimizer_, op, ": no optimizer set");
  PYNN_CHECK(static_cast<int>(h.size()) == optim_scalars(rule_), op, ": expected ", optim_scalars(rule_),
             " optimizer scalars, got ", h.size());
  PYNN_CHECK(!order || (order->ndim() == 1 && order->dtype == DType::Int64 && stop <= order->shape[0]), op,
             ": order must be 1-D int64 covering the rows asked for");
  const int64_t n = x.shape[0];
  PYNN_CHECK(y.ndim() >= 1 && y.shape[0] == n, op, ": ", n, " inputs but targets of shape ", y.shape);
  if (order) {
    const int64_t* idx = reinterpret_cast<const int64_t*>(order->data());
    const int64_t s = order->strides[0] / 8;
    PYNN_CHECK(0 <= start && start < stop, op, ": empty batch [", start, ", ", stop, ")");
    for (int64_t r = start; r < stop; ++r)
      PYNN_CHECK(0 <= idx[r * s] && idx[r * s] < n, op, ": row ", idx[r * s], " out of range for ", n, " samples");
    check_x(op, x, 0, n);
  } else {
    check_x(op, x, start, stop);
  }
  const int64_t rows = stop - start;
  reserve(rows, true);
  const Tensor x0 = gather_x(x, order, start, rows);
  const Tensor target = gather_y(y, order, start, rows);
  forward(x0, rows);
  Result r = loss(target, rows, true);
  Tensor dz = first_rows(dlogits_, rows);
  // Backward and update, last layer first (Note [Compiled dense stack]).
  int64_t var = static_cast<int64_t>(slots_.size());
  for (int64_t l = layers() - 1; l >= 0; --l) {
    // dz is dL/dz_l: from the loss for the last layer, else dY_l with the
    // activation's derivative folded in by the epilogue below.
    const Tensor in = l == 0 ? x0 : first_rows(outs_[l - 1], rows);
    Tensor din;
    if (l > 0) {
      // dY_{l-1} = dz W_l^T, and dz_{l-1} = act'(Y_{l-1}) * dY_{l-1} on each
      // finished block while it is in cache (Note [GEMM epilogue]).
      din = first_rows(douts_[l - 1], rows);
      const bool act = acts_[l - 1] != Activation::linear;
      const ElementwiseEpilogue g{
          din.data(), din.strides[0], din.elsize(), in.data(), in.strides[0],
          act ? kernels().binary[static_cast<int>(nn_activation_grad_op(acts_[l - 1]))][static_cast<int>(dtype_)]
              : nullptr,
          nullptr};
      const GemmEpilogue epi{&nn_elementwise_epilogue, const_cast<ElementwiseEpilogue*>(&g)};
      gemm_2d(dz, tensor_transpose(kernels_[l], {}), din, false, act ? &epi : nullptr);
    }
    // dW_l; after the first layer dropped zero input columns, only the kept
    // columns' rows (the others are exactly 0: Note [Zero input columns]).
    const bool part_rows = l == 0 && input_cols_.used && nn_all_finite(dz);
    Tensor part;
    if (part_rows) {
      part = tensor_empty(Dims{static_cast<int64_t>(input_cols_.keep.size()), dz.shape[1]}, dtype_);
      gemm_2d(tensor_transpose(input_cols_.x, {}), dz, part);
    } else {
      gemm_2d(tensor_transpose(in, {}), dz, dkernels_[l]);
    }
    if (has(biases_[l])) {
      Tensor db = reduce(ReduceOp::sum, dz, {0}, false, false);
      if (db.dtype != dtype_) db = ew_astype(db, dtype_);
      update(--var, biases_[l], db, h);
    }
    if (part_rows)
      update_rows(--var, kernels_[l], part, input_cols_.keep, h);
    else
      update(--var, kernels_[l], dkernels_[l], h);
    dz = din;
  }
  return r;
}

DenseStack::Result DenseStack::evaluate(const Tensor& x, const Tensor& y, int64_t start, int64_t stop) {
  std::lock_guard<std::mutex> lock(busy_);
  check_x("DenseStack.evaluate", x, start, stop);
  PYNN_CHECK(y.shape[0] == x.shape[0], "DenseStack.evaluate: ", x.shape[0], " inputs but ", y.shape[0], " targets");
  const int64_t rows = stop - start;
  reserve(rows, false);
  forward(gather_x(x, nullptr, start, rows), rows);
  return loss(gather_y(y, nullptr, start, rows), rows, false);
}

Tensor DenseStack::predict(const Tensor& x, int64_t start, int64_t stop) {
  std::lock_guard<std::mutex> lock(busy_);
  check_x("DenseStack.predict", x, start, stop);
  const int64_t rows = stop - start;
  reserve(rows, false);
  forward(gather_x(x, nullptr, start, rows), rows);
  const Tensor logits = first_rows(outs_.back(), rows);
  if (acts_.back() == Activation::softmax) return nn_softmax_rows(logits, false);
  Tensor out = tensor_empty(logits.shape, dtype_);
  ew_copy("predict", out, logits);
  return out;
}

}  // namespace pynn
