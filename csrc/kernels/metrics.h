// metrics.h: confusion counts for the threshold metrics (Note [Confusion counts]).
#pragma once

#include <cstdint>

namespace pynn {

// Note [Confusion counts]
// Precision, Recall, AUC, the *AtRecall / *AtSensitivity family and
// TruePositives & co. accumulate, for every threshold t and label j, the
// weighted counts of samples predicted positive (pred > t) or not, split by
// their true label. One pass over the batch serves all thresholds: for each
// sample and label, each threshold adds the sample's weight to exactly one of
// tp / fp / tn / fn. The counts are float64 (weights are real numbers).
// Large batches are split into `metrics_confusion_blocks` contiguous blocks of
// samples, each counted into its own partial, and the partials are added in
// block order, so a result depends only on the thread count.

// Blocks the sample range is split into for n samples, nthr thresholds and
// `labels` labels (1 when small); the caller provides (blocks - 1) * 4 * nthr * labels
// doubles of scratch.
int64_t metrics_confusion_blocks(int64_t n, int64_t nthr, int64_t labels);

// pred, weight: (n, labels) float64, contiguous; positive: (n, labels) uint8 (0/1);
// thresholds: nthr float64. Adds into tp, fp, tn, fn, each (nthr, labels) contiguous.
void metrics_confusion_counts(const double* pred, const uint8_t* positive, const double* weight, int64_t n,
                              int64_t labels, const double* thresholds, int64_t nthr, double* tp, double* fp,
                              double* tn, double* fn, double* scratch);

}  // namespace pynn
