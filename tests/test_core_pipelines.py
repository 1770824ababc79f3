"""fit / evaluate / predict on generators and PyDatasets (Note [Data pipelines] in pynn/data.py):
the same batches give the same numbers as arrays, bit for bit, and the steps stay captured."""

import numpy as np
import pytest

import pynn
from pynn import layers

from oracle import assert_same_state


def data(n=100, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = (rng.normal(0, 2, (3, 6))[y] + rng.normal(0, 1, (n, 6))).astype(np.float32)
    return x, y


def model(**options):
    pynn.random.seed(0)
    m = pynn.Sequential([layers.Input((6,)), layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], **options)
    return m


class Batches(pynn.utils.PyDataset):
    def __init__(self, x, y, batch_size, weights=None, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.w, self.batch_size, self.ends = x, y, weights, batch_size, 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return (self.x[s], self.y[s]) if self.w is None else (self.x[s], self.y[s], self.w[s])

    def on_epoch_end(self):
        self.ends += 1


def generator(x, y, batch_size, repeat=1):
    for _ in range(repeat):
        for i in range(0, len(x), batch_size):
            yield x[i:i + batch_size], y[i:i + batch_size]


def test_generator_and_pydataset_train_as_the_same_arrays():
    x, y = data()
    ref = model()
    h_ref = ref.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    for make_x, kwargs in ((lambda: generator(x, y, 16, repeat=3), dict(steps_per_epoch=7)),
                           (lambda: Batches(x, y, 16), {}), (lambda: Batches(x, y, 16, workers=3), {})):
        m = model()
        source = make_x()
        assert m.fit(source, epochs=3, shuffle=False, verbose=0, **kwargs).history == h_ref
        assert_same_state(ref, m)
        assert ("train", "captured") in {(i["mode"], i["path"]) for i in m.plan_info()}
        if isinstance(source, Batches):
            assert source.ends == 3
    np.testing.assert_array_equal(m.predict(Batches(x, y, 16), verbose=0), ref.predict(x, batch_size=16, verbose=0))
    np.testing.assert_array_equal(m.predict(generator(x, y, 16), verbose=0), ref.predict(x, batch_size=16, verbose=0))
    np.testing.assert_array_equal(m.predict((b for b, _ in generator(x, y, 16)), verbose=0),
                                  ref.predict(x, batch_size=16, verbose=0))
    assert m.evaluate(Batches(x, y, 16), verbose=0) == ref.evaluate(x, y, batch_size=16, verbose=0)
    assert m.evaluate(generator(x, y, 16), steps=2, verbose=0) == ref.evaluate(x[:32], y[:32], batch_size=16,
                                                                                verbose=0)


def test_pydataset_shuffles_batches_reproducibly_and_takes_weights():
    x, y = data()
    w = np.random.default_rng(3).uniform(0, 2, len(x))
    runs = []
    for _ in range(2):
        m = model()
        pynn.random.seed(11)
        runs.append(m.fit(Batches(x, y, 16, w), epochs=2, verbose=0).history)
    assert runs[0] == runs[1]
    m = model()
    unshuffled = m.fit(Batches(x, y, 16, w), epochs=2, shuffle=False, verbose=0).history
    assert unshuffled != runs[0]


def test_validation_from_a_pipeline_and_validation_freq():
    x, y = data()
    m = model()
    h = m.fit(x, y, batch_size=16, epochs=4, validation_data=Batches(x[:40], y[:40], 8), validation_freq=2,
              verbose=0).history
    assert len(h["loss"]) == 4 and len(h["val_loss"]) == 2
    h = model().fit(x, y, batch_size=16, epochs=3, validation_data=(x[:40], y[:40]), validation_freq=[1, 3],
                    verbose=0).history
    assert len(h["val_loss"]) == 2


def test_a_generator_that_runs_out_stops_training_with_a_warning():
    x, y = data()
    m = model()
    with pytest.warns(UserWarning, match="ran out of data"):
        h = m.fit(generator(x, y, 16), epochs=3, verbose=0).history
    assert len(h["loss"]) == 1


def test_pipeline_errors():
    x, y = data(n=20)
    m = model()
    with pytest.raises(ValueError, match="got an object of type object"):
        m.fit(object(), verbose=0)
    with pytest.raises(ValueError, match="got a dict"):
        m.fit({"a": x}, y, verbose=0)
    with pytest.raises(ValueError, match="must not be given when x is a generator"):
        m.fit(Batches(x, y, 4), y, verbose=0)
    with pytest.raises(ValueError, match="validation_split cannot split"):
        m.fit(Batches(x, y, 4), validation_split=0.2, verbose=0)
    with pytest.raises(NotImplementedError, match="use_multiprocessing=True"):
        m.fit(Batches(x, y, 4, use_multiprocessing=True), verbose=0)
    with pytest.raises(ValueError, match="must carry its targets"):
        m.fit((b for b, _ in generator(x, y, 4)), verbose=0)
    with pytest.raises(ValueError, match="workers must be a non-negative int"):
        Batches(x, y, 4, workers=-1)
