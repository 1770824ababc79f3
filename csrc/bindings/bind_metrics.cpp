// bind_metrics.cpp: the confusion-count kernel (Note [Confusion counts]).
#include <vector>

#include "bind.h"
#include "core/check.h"
#include "kernels/metrics.h"

namespace pynn {

void bind_metrics(py::module_& m) {
  using F64 = py::array_t<double, py::array::c_style | py::array::forcecast>;
  using U8 = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;
  m.def("_confusion_counts", [](F64 pred, U8 positive, F64 weight, F64 thresholds, F64 tp, F64 fp, F64 tn, F64 fn) {
    PYNN_CHECK(pred.ndim() == 2, "confusion_counts: predictions must be (samples, labels), got ", pred.ndim(), "-D");
    const int64_t n = pred.shape(0), labels = pred.shape(1), nthr = thresholds.size();
    PYNN_CHECK(positive.ndim() == 2 && positive.shape(0) == n && positive.shape(1) == labels &&
                   weight.ndim() == 2 && weight.shape(0) == n && weight.shape(1) == labels,
               "confusion_counts: labels and weights must have the predictions' shape (", n, ", ", labels, ")");
    for (const F64* c : {&tp, &fp, &tn, &fn}) {
      PYNN_CHECK(c->ndim() == 2 && c->shape(0) == nthr && c->shape(1) == labels && c->writeable(),
                 "confusion_counts: each count must be a writeable (", nthr, ", ", labels, ") float64 array");
    }
    const int64_t blocks = metrics_confusion_blocks(n, nthr, labels);
    std::vector<double> scratch(static_cast<size_t>((blocks - 1) * 4 * nthr * labels));
    const double* p = pred.data();
    const uint8_t* y = positive.data();
    const double* w = weight.data();
    const double* t = thresholds.data();
    double *a = tp.mutable_data(), *b = fp.mutable_data(), *c = tn.mutable_data(), *d = fn.mutable_data();
    py::gil_scoped_release nogil;
    metrics_confusion_counts(p, y, w, n, labels, t, nthr, a, b, c, d, scratch.data());
  }, "Adds the weighted confusion counts of one batch, for every threshold, into tp, fp, tn, fn.");
}

}  // namespace pynn
