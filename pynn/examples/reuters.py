"""Reuters newswire topics (46 classes) with a multi-hot vector per newswire, as "Deep Learning
with Python" (Chollet), section 3.5, does it, on pynn.

    python -m pynn.examples.reuters [--epochs 20] [--batch-size 512] [--num-words 10000]
                                    [--validation 1000] [--labels categorical|sparse]
                                    [--seed 0] [--threads N]

Each newswire becomes a num_words-long multi-hot vector (pynn.examples.imdb.vectorize_sequences).
build_model() is Dense(64, relu) -> Dense(64, relu) -> Dense(46, softmax) with RMSprop and
accuracy. --labels categorical one-hot encodes the topics (pynn.utils.to_categorical) and uses
categorical cross-entropy; --labels sparse keeps the integer topics and uses sparse categorical
cross-entropy (the same loss, the book's two ways of writing it). The first `validation`
training newswires are held out for validation (the book's 1,000); the model is then evaluated
on the test set (the book reaches about 0.78 test accuracy after nine epochs).
"""

import sys

import numpy as np

import pynn
from pynn import layers
from pynn.examples import _cli
from pynn.examples.imdb import fit_held_out, vectorize_sequences

NUM_CLASSES = 46
LOSSES = {"categorical": "categorical_crossentropy", "sparse": "sparse_categorical_crossentropy"}


def build_model(num_words=10000, labels="categorical", num_classes=NUM_CLASSES):
    if labels not in LOSSES:
        raise ValueError(f"reuters example: labels must be 'categorical' or 'sparse'; got {labels!r}")
    model = pynn.Sequential([
        layers.Input(shape=(num_words,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss=LOSSES[labels], metrics=["accuracy"])
    return model


def run(epochs=20, batch_size=512, num_words=10000, validation=1000, labels="categorical", seed=0, data=None,
        verbose=1):
    """Trains the section-3.5 model; returns (model, history, test_loss, test_accuracy). data:
    ((x_train, y_train), (x_test, y_test)) as reuters.load_data returns them, by default
    pynn.datasets.reuters.load_data(num_words=num_words)."""
    if labels not in LOSSES:
        raise ValueError(f"reuters example: labels must be 'categorical' or 'sparse'; got {labels!r}")
    if not 0 < validation:
        raise ValueError(f"reuters example: validation must be a positive number of newswires; got {validation}")
    pynn.random.seed(seed)
    (train_data, train_labels), (test_data, test_labels) = (
        data if data is not None else pynn.datasets.reuters.load_data(num_words=num_words))
    if validation >= len(train_data):
        raise ValueError(f"reuters example: {validation} validation newswires leave none of the "
                         f"{len(train_data)} training newswires to train on")
    x_train, x_test = vectorize_sequences(train_data, num_words), vectorize_sequences(test_data, num_words)
    if labels == "categorical":
        y_train = pynn.utils.to_categorical(train_labels, NUM_CLASSES).astype("float32")
        y_test = pynn.utils.to_categorical(test_labels, NUM_CLASSES).astype("float32")
    else:
        y_train, y_test = np.asarray(train_labels), np.asarray(test_labels)
    return fit_held_out(build_model(num_words, labels), (x_train, y_train), (x_test, y_test), validation, epochs,
                        batch_size, verbose)


def main(argv=None):
    p = _cli.parser(__doc__, epochs=20, batch_size=512)
    p.add_argument("--num-words", type=int, default=10000)
    p.add_argument("--validation", type=int, default=1000, help="held-out training newswires")
    p.add_argument("--labels", choices=tuple(LOSSES), default="categorical",
                   help="one-hot labels with categorical_crossentropy, or integer labels with "
                        "sparse_categorical_crossentropy")

    def train(a):
        _, _, test_loss, test_acc = run(a.epochs, a.batch_size, a.num_words, a.validation, a.labels, a.seed)
        return f"test loss: {test_loss:.4f}, test accuracy: {test_acc:.4f}"

    return _cli.main(p, argv, train)


if __name__ == "__main__":
    sys.exit(main())
