"""IMDB review sentiment with a multi-hot vector per review, as "Deep Learning with Python"
(Chollet), section 3.4, does it, on pynn.

    python -m pynn.examples.imdb [--epochs 20] [--batch-size 512] [--num-words 10000]
                                 [--validation 10000] [--seed 0] [--threads N]

Each review (a list of word indices, the num_words most frequent words kept) becomes a
num_words-long vector of 0s and 1s (vectorize_sequences: 1 where the word occurs). build_model()
is Dense(16, relu) -> Dense(16, relu) -> Dense(1, sigmoid), RMSprop, binary cross-entropy and
accuracy. The first `validation` training reviews are held out for validation (the book's
10,000); the rest are trained on for `epochs` epochs of `batch_size`, and the model is then
evaluated on the test set (the book sees validation accuracy peak near 0.89 after about four
epochs and overfit afterwards).
"""

import sys

import numpy as np

import pynn
from pynn import layers
from pynn.examples import _cli


def vectorize_sequences(sequences, dimension=10000):
    """(len(sequences), dimension) float32 multi-hot rows: row i is 1 at every index in sequences[i]."""
    results = np.zeros((len(sequences), dimension), dtype="float32")
    for i, seq in enumerate(sequences):
        seq = np.asarray(list(seq), dtype=np.int64)
        if seq.size and (seq.min() < 0 or seq.max() >= dimension):
            bad = int(seq.min()) if seq.min() < 0 else int(seq.max())
            raise ValueError(f"vectorize_sequences: sequence {i} holds index {bad} outside [0, {dimension}); "
                             f"load the data with num_words={dimension}")
        results[i, seq] = 1.0
    return results


def build_model(num_words=10000):
    model = pynn.Sequential([
        layers.Input(shape=(num_words,)),
        layers.Dense(16, activation="relu"),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def run(epochs=20, batch_size=512, num_words=10000, validation=10000, seed=0, data=None, verbose=1):
    """Trains the section-3.4 model; returns (model, history, test_loss, test_accuracy). data:
    ((x_train, y_train), (x_test, y_test)) as imdb.load_data returns them, by default
    pynn.datasets.imdb.load_data(num_words=num_words)."""
    if not 0 < validation:
        raise ValueError(f"imdb example: validation must be a positive number of reviews; got {validation}")
    pynn.random.seed(seed)
    (train_data, train_labels), (test_data, test_labels) = (
        data if data is not None else pynn.datasets.imdb.load_data(num_words=num_words))
    if validation >= len(train_data):
        raise ValueError(f"imdb example: {validation} validation reviews leave none of the {len(train_data)} "
                         f"training reviews to train on")
    x_train, x_test = vectorize_sequences(train_data, num_words), vectorize_sequences(test_data, num_words)
    y_train = np.asarray(train_labels).astype("float32")
    y_test = np.asarray(test_labels).astype("float32")
    return fit_held_out(build_model(num_words), (x_train, y_train), (x_test, y_test), validation, epochs,
                        batch_size, verbose)


def fit_held_out(model, train, test, validation, epochs, batch_size, verbose):
    """The book's chapter-3 loop: the first `validation` training samples held out for validation, fit
    on the rest, then evaluate on the test set; returns (model, history, test_loss, test_accuracy)."""
    (x_train, y_train), (x_test, y_test) = train, test
    history = model.fit(x_train[validation:], y_train[validation:], epochs=epochs, batch_size=batch_size,
                        validation_data=(x_train[:validation], y_train[:validation]), verbose=verbose)
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    return model, history, float(test_loss), float(test_acc)


def main(argv=None):
    p = _cli.parser(__doc__, epochs=20, batch_size=512)
    p.add_argument("--num-words", type=int, default=10000)
    p.add_argument("--validation", type=int, default=10000, help="held-out training reviews")

    def train(a):
        _, _, test_loss, test_acc = run(a.epochs, a.batch_size, a.num_words, a.validation, a.seed)
        return f"test loss: {test_loss:.4f}, test accuracy: {test_acc:.4f}"

    return _cli.main(p, argv, train)


if __name__ == "__main__":
    sys.exit(main())
