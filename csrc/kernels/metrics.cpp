// metrics.cpp: confusion counts (Note [Confusion counts] in metrics.h).
#include "metrics.h"

#include "core/parallel.h"

namespace pynn {

namespace {

// Adds the counts of samples [begin, end) into tp/fp/tn/fn (each nthr * labels).
void count_range(const double* pred, const uint8_t* positive, const double* weight, int64_t begin, int64_t end,
                 int64_t labels, const double* thresholds, int64_t nthr, double* tp, double* fp, double* tn,
                 double* fn) {
  for (int64_t i = begin; i < end; ++i) {
    for (int64_t j = 0; j < labels; ++j) {
      const int64_t k = i * labels + j;
      const double p = pred[k];
      const double w = weight[k];
      double* hit = positive[k] ? tp : fp;
      double* miss = positive[k] ? fn : tn;
      for (int64_t t = 0; t < nthr; ++t) {
        const int64_t o = t * labels + j;
        if (p > thresholds[t]) {
          hit[o] += w;
        } else {
          miss[o] += w;
        }
      }
    }
  }
}

}  // namespace

int64_t metrics_confusion_blocks(int64_t n, int64_t nthr, int64_t labels) {
  const int64_t work = n * nthr * labels;
  int nt = parallel_threads_for(work, kGrainSize);
  return nt < n ? nt : (n > 0 ? n : 1);
}

void metrics_confusion_counts(const double* pred, const uint8_t* positive, const double* weight, int64_t n,
                              int64_t labels, const double* thresholds, int64_t nthr, double* tp, double* fp,
                              double* tn, double* fn, double* scratch) {
  const int64_t blocks = metrics_confusion_blocks(n, nthr, labels);
  const int64_t size = nthr * labels;
  if (blocks <= 1) {
    FloatModeGuard fm;
    count_range(pred, positive, weight, 0, n, labels, thresholds, nthr, tp, fp, tn, fn);
    return;
  }
  for (int64_t i = 0; i < (blocks - 1) * 4 * size; ++i) scratch[i] = 0.0;
  // Block 0 counts straight into the outputs; block b > 0 into its own partial.
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t begin = n * b / blocks, end = n * (b + 1) / blocks;
      double* part = b == 0 ? nullptr : scratch + (b - 1) * 4 * size;
      count_range(pred, positive, weight, begin, end, labels, thresholds, nthr, b == 0 ? tp : part,
                  b == 0 ? fp : part + size, b == 0 ? tn : part + 2 * size, b == 0 ? fn : part + 3 * size);
    }
  });
  for (int64_t b = 1; b < blocks; ++b) {
    const double* part = scratch + (b - 1) * 4 * size;
    for (int64_t o = 0; o < size; ++o) {
      tp[o] += part[o];
      fp[o] += part[size + o];
      tn[o] += part[2 * size + o];
      fn[o] += part[3 * size + o];
    }
  }
}

}  // namespace pynn
