"""Data pipelines for fit, evaluate and predict: Python generators and iterators, and PyDataset.

Note [Data pipelines]
Besides arrays (gathered in C++ batch by batch, Note [Training step]), fit,
evaluate and predict take a pipeline that hands them whole batches, as Keras 3:
- a PyDataset (pynn.utils.PyDataset, or any object with __len__ and
  __getitem__ and no __array__ that is not a list or tuple): batch i is ds[i],
  i in range(len(ds)) (or the first steps_per_epoch), in a new order every epoch
  when shuffle is on (drawn from pynn's generator, Note [One random
  generator]), then ds.on_epoch_end(); with workers > 1 the next batches are
  read ahead by that many threads, in order;
- a Python generator or iterator: batches are drawn from it until it ends or
  steps_per_epoch are drawn; shuffle does not apply. When it runs out before a
  later epoch could start, fit warns and stops, as Keras does.
A batch is x, (x,), (x, y) or (x, y, sample_weight) (a list is read as a tuple,
as Keras does); x is an array or a list of arrays for several inputs. Each batch
then runs the same step as arrays do, captured per batch shape. Anything else
that is not array-like is a ValueError naming its type, never a NumPy
conversion of an unknown object.
"""

import collections
import concurrent.futures
import itertools

import numpy as np

__all__ = ["PyDataset"]


class PyDataset:
    """Keras 3's PyDataset: subclass it, call super().__init__(**kwargs), define __len__ (the
    number of batches) and __getitem__(index) (a batch: x, (x, y) or (x, y, sample_weight));
    on_epoch_end() runs after every epoch. workers > 1 reads batches ahead in that many threads.
    use_multiprocessing=True (worker processes) is not supported: fit raises NotImplementedError."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ValueError(f"PyDataset: workers must be a non-negative int, got {workers!r}")
        if isinstance(max_queue_size, bool) or not isinstance(max_queue_size, int) or max_queue_size < 1:
            raise ValueError(f"PyDataset: max_queue_size must be a positive int, got {max_queue_size!r}")
        self.workers, self.use_multiprocessing, self.max_queue_size = workers, bool(use_multiprocessing), max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__}: define __getitem__(index) to return a batch")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__}: define __len__() to return the number of batches")

    @property
    def num_batches(self):
        return len(self)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


def _is_array_like(x):
    from .tensor import Tensor

    return isinstance(x, (np.ndarray, Tensor, list, tuple, int, float, bool, np.generic)) or hasattr(x, "__array__")


def adapt(x, op, steps=None):
    """A pipeline over x (Note [Data pipelines]), or None when x is arrays."""
    if x is None or _is_array_like(x):
        return None
    if isinstance(x, (dict, str, bytes)):
        raise ValueError(f"{op}: x must be arrays (a NumPy array, a Tensor or a list of them), a Python generator "
                         f"or iterator, or a PyDataset; got a {type(x).__name__}")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"{op}: steps must be a positive int or None, got {steps!r}")
    if isinstance(x, PyDataset) or (hasattr(x, "__getitem__") and hasattr(x, "__len__")):
        return _Dataset(x, op, steps)
    if hasattr(x, "__next__") or hasattr(x, "__iter__"):
        return _Iterator(iter(x), op, steps)
    raise ValueError(f"{op}: x must be arrays (a NumPy array, a Tensor or a list of them), a Python generator or "
                     f"iterator, or a PyDataset; got an object of type {type(x).__name__}")


def unpack(batch, op):
    """(x, y, sample_weight) of a pipeline's batch, as Keras' unpack_x_y_sample_weight."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return batch, None, None
    if len(batch) == 1:
        return batch[0], None, None
    if len(batch) == 2:
        return batch[0], batch[1], None
    if len(batch) == 3:
        return batch
    raise ValueError(f"{op}: a batch must be x, (x,), (x, y) or (x, y, sample_weight); got a tuple of "
                     f"{len(batch)} items")


class _Dataset:
    """Batches ds[i] of a PyDataset-like object."""

    def __init__(self, ds, op, steps):
        self.ds, self.op = ds, op
        n = len(ds)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"{op}: len() of the {type(ds).__name__} must be a non-negative int, got {n!r}")
        self.steps = n if steps is None else min(steps, n)
        workers = getattr(ds, "workers", 1)
        if getattr(ds, "use_multiprocessing", False):
            raise NotImplementedError(f"{op}: PyDataset(use_multiprocessing=True) is not supported yet; pynn reads "
                                      f"batches ahead in threads (workers=N with use_multiprocessing=False)")
        self.workers = workers if isinstance(workers, int) and workers > 1 else 0
        self.ahead = max(1, getattr(ds, "max_queue_size", 10))

    def epoch(self, shuffle):
        from . import random as _random

        order = _random._index_order(self.steps) if shuffle else range(self.steps)
        if not self.workers:
            for i in order:
                yield self.ds[int(i)]
        else:  # read up to max_queue_size batches ahead in threads, handed out in order
            indices = iter([int(i) for i in order])
            with concurrent.futures.ThreadPoolExecutor(self.workers) as pool:
                pending = collections.deque(pool.submit(self.ds.__getitem__, i)
                                            for i in itertools.islice(indices, self.ahead))
                while pending:
                    batch = pending.popleft().result()
                    for i in itertools.islice(indices, 1):
                        pending.append(pool.submit(self.ds.__getitem__, i))
                    yield batch
        if hasattr(self.ds, "on_epoch_end"):
            self.ds.on_epoch_end()

    def exhausted(self):
        return False


class _Iterator:
    """Batches drawn from a generator or iterator."""

    def __init__(self, it, op, steps):
        self.it, self.op, self.steps, self.done = it, op, steps, False

    def epoch(self, shuffle):
        count = 0
        while self.steps is None or count < self.steps:
            try:
                batch = next(self.it)
            except StopIteration:
                self.done = True
                return
            count += 1
            yield batch

    def exhausted(self):
        return self.done
