"""Keras' simple MNIST convnet on pynn (keras.io/examples/vision/mnist_convnet).

    python -m pynn.examples.convnet [--epochs 15] [--batch-size 128] [--threads N]
                                    [--dataset mnist|fashion_mnist] [--seed 0] [--limit N]

Conv2D(32, 3x3, relu) -> MaxPooling2D(2x2) -> Conv2D(64, 3x3, relu) ->
MaxPooling2D(2x2) -> Flatten -> Dropout(0.5) -> Dense(10, softmax), Adam,
categorical cross-entropy on one-hot labels, batch 128, 15 epochs with 10% of the
training images held out for validation, as Keras' example; then the test
accuracy (Keras reports about 99%). The whole training step runs as one captured
plan (Note [Captured steps]).
"""

import sys

import numpy as np

import pynn
from pynn import layers
from pynn.examples import _cli


def build_model(input_shape=(28, 28, 1), num_classes=10):
    model = pynn.Sequential([
        layers.Input(shape=input_shape),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def load(dataset="mnist", limit=None):
    """Images as (n, 28, 28, 1) floats in [0, 1] and one-hot labels, as Keras' example prepares them."""
    loader = {"mnist": pynn.datasets.mnist, "fashion_mnist": pynn.datasets.fashion_mnist}[dataset]
    (x_train, y_train), (x_test, y_test) = loader.load_data()
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
    x_train = np.expand_dims(x_train.astype("float32") / 255, -1)
    x_test = np.expand_dims(x_test.astype("float32") / 255, -1)
    return ((x_train, pynn.utils.to_categorical(y_train, 10)), (x_test, pynn.utils.to_categorical(y_test, 10)))


def run(epochs=15, batch_size=128, dataset="mnist", seed=0, limit=None, verbose=1):
    """Trains the convnet; returns (model, history, test_loss, test_accuracy)."""
    pynn.random.seed(seed)
    (x_train, y_train), (x_test, y_test) = load(dataset, limit)
    model = build_model()
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1,
                        verbose=verbose)
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    return model, history, test_loss, test_acc


def main(argv=None, dataset="mnist"):
    p = _cli.parser(__doc__, epochs=15, batch_size=128, limit=True)
    p.add_argument("--dataset", choices=("mnist", "fashion_mnist"), default=dataset)

    def train(a):
        _, _, test_loss, test_acc = run(a.epochs, a.batch_size, a.dataset, a.seed, a.limit)
        return f"test_acc: {test_acc:.4f}  (test_loss: {test_loss:.4f})"

    return _cli.main(p, argv, train)


if __name__ == "__main__":
    sys.exit(main())
