"""The MNIST program of "Deep Learning with Python", chapter 2, on pynn.

    python -m pynn.examples.mnist [--epochs 5] [--batch-size 128] [--threads N]
                                  [--dataset mnist|fashion_mnist] [--seed 0] [--limit N]

A 784 -> Dense(512, relu) -> Dense(10, softmax) network trained with RMSprop
on sparse categorical cross-entropy, printing Keras-style progress and then
the test accuracy. The data comes from pynn.datasets (set PYNN_DATA to the
folder holding mnist/ and fashion-mnist/, or let it download).
"""

import sys

import pynn
from pynn import layers
from pynn.examples import _cli


def build_model():
    model = pynn.Sequential([
        layers.Input(shape=(28 * 28,)),
        layers.Dense(512, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def load(dataset, limit=None):
    """Images flattened to 784 floats in [0, 1], as the book prepares them."""
    loader = {"mnist": pynn.datasets.mnist, "fashion_mnist": pynn.datasets.fashion_mnist}[dataset]
    (train_images, train_labels), (test_images, test_labels) = loader.load_data()
    if limit:
        train_images, train_labels = train_images[:limit], train_labels[:limit]
    train_images = train_images.reshape((len(train_images), 28 * 28)).astype("float32") / 255
    test_images = test_images.reshape((len(test_images), 28 * 28)).astype("float32") / 255
    return (train_images, train_labels), (test_images, test_labels)


def run(epochs=5, batch_size=128, dataset="mnist", seed=0, limit=None, verbose=1):
    """Trains the chapter-2 model; returns (model, test_loss, test_accuracy)."""
    pynn.random.seed(seed)
    (train_images, train_labels), (test_images, test_labels) = load(dataset, limit)
    model = build_model()
    model.fit(train_images, train_labels, epochs=epochs, batch_size=batch_size, verbose=verbose)
    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=0)
    return model, test_loss, test_acc


def main(argv=None, dataset="mnist"):
    p = _cli.parser(__doc__, epochs=5, batch_size=128, limit=True)
    p.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default=dataset)

    def train(a):
        _, test_loss, test_acc = run(a.epochs, a.batch_size, a.dataset, a.seed, a.limit)
        return f"test_acc: {test_acc:.4f}  (test_loss: {test_loss:.4f})"

    return _cli.main(p, argv, train)


if __name__ == "__main__":
    sys.exit(main())
