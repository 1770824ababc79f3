"""A small Keras-style convnet for CIFAR-10 on pynn.

    python -m pynn.examples.cifar10 [--epochs 15] [--batch-size 128] [--threads N] [--seed 0] [--limit N]

Two blocks of Conv2D(3x3, relu, "same") -> Conv2D(3x3, relu) -> MaxPooling2D(2x2) ->
Dropout(0.25), with 32 then 64 filters, then Flatten -> Dense(512, relu) ->
Dropout(0.5) -> Dense(10, softmax): 1,250,858 parameters, the network of Keras'
classic cifar10_cnn example. Adam, categorical cross-entropy on one-hot labels,
10% of the training images held out for validation, then the test accuracy. The
data comes from pynn.datasets.cifar10 (set PYNN_DATA to the folder holding
cifar10/, or let it download). The training step runs as one captured plan
(Note [Captured steps]).
"""

import sys

import pynn
from pynn import layers
from pynn.examples import _cli


def build_model(input_shape=(32, 32, 3), num_classes=10):
    model = pynn.Sequential([
        layers.Input(shape=input_shape),
        layers.Conv2D(32, (3, 3), padding="same", activation="relu"),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Dropout(0.25),
        layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(512, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def load(limit=None, data=None):
    """Images as (n, 32, 32, 3) floats in [0, 1] and one-hot labels. `data` replaces the data set
    with arrays in load_data's layout: ((x_train, y_train), (x_test, y_test)), uint8 images
    (n, 32, 32, 3) and labels (n, 1)."""
    (x_train, y_train), (x_test, y_test) = data if data is not None else pynn.datasets.cifar10.load_data()
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
    x_train = x_train.astype("float32") / 255
    x_test = x_test.astype("float32") / 255
    return ((x_train, pynn.utils.to_categorical(y_train, 10)), (x_test, pynn.utils.to_categorical(y_test, 10)))


def run(epochs=15, batch_size=128, seed=0, limit=None, verbose=1, data=None):
    """Trains the convnet; returns (model, history, test_loss, test_accuracy). `data`: see load()."""
    pynn.random.seed(seed)
    (x_train, y_train), (x_test, y_test) = load(limit, data)
    model = build_model(x_train.shape[1:])
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1,
                        verbose=verbose)
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    return model, history, test_loss, test_acc


def main(argv=None):
    p = _cli.parser(__doc__, epochs=15, batch_size=128, limit=True)

    def train(a):
        _, _, test_loss, test_acc = run(a.epochs, a.batch_size, a.seed, a.limit)
        return f"test_acc: {test_acc:.4f}  (test_loss: {test_loss:.4f})"

    return _cli.main(p, argv, train)


if __name__ == "__main__":
    sys.exit(main())
