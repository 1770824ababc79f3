"""Boston housing price regression with K-fold validation, as "Deep Learning with Python"
(Chollet), section 3.6 does it, on pynn.

    python -m pynn.examples.boston [--epochs 100] [--batch-size 1] [--folds 4] [--seed 0]
                                   [--final-epochs 80] [--threads N]

The 13 features are normalized with the training set's mean and standard deviation (the test
set with the same numbers: nothing is computed from test data). build_model() is
Dense(64, relu) -> Dense(64, relu) -> Dense(1) (a linear scalar output), RMSprop, mean squared
error loss, mean absolute error metric; targets are 1-D (median values in k$). With so few
samples (404) the validation score is estimated by K-fold validation: k models, each trained on
k-1 folds and evaluated on the remaining one, their validation MAEs printed and averaged. A final
model trained on all the training data is then evaluated on the test set (the book reports a
test MAE near 2.5, i.e. about $2,500).
"""

import sys

import numpy as np

import pynn
from pynn import layers
from pynn.examples import _cli


def build_model(num_features=13):
    model = pynn.Sequential([
        layers.Input(shape=(num_features,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(1),
    ])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


def normalize(train_data, test_data):
    """Both sets standardized with the training set's per-feature mean and std (float64 -> float32)."""
    mean = train_data.mean(axis=0)
    std = train_data.std(axis=0)
    std = np.where(std == 0, 1.0, std)  # a constant feature stays 0 instead of dividing by zero
    return ((train_data - mean) / std).astype("float32"), ((test_data - mean) / std).astype("float32")


def k_fold_validation(train_data, train_targets, k=4, epochs=100, batch_size=1, verbose=1):
    """The validation MAE of each of the k folds (the book's loop: fold i is samples
    [i * n, (i + 1) * n) with n = len // k, the model trained on the others)."""
    num_val_samples = len(train_data) // k
    if num_val_samples == 0:
        raise ValueError(f"k_fold_validation: k={k} folds need at least k samples; got {len(train_data)}")
    scores = []
    for i in range(k):
        lo, hi = i * num_val_samples, (i + 1) * num_val_samples
        val_data, val_targets = train_data[lo:hi], train_targets[lo:hi]
        partial_data = np.concatenate([train_data[:lo], train_data[hi:]], axis=0)
        partial_targets = np.concatenate([train_targets[:lo], train_targets[hi:]], axis=0)
        model = build_model(train_data.shape[1])
        model.fit(partial_data, partial_targets, epochs=epochs, batch_size=batch_size, verbose=0)
        _, val_mae = model.evaluate(val_data, val_targets, verbose=0)
        scores.append(float(val_mae))
        if verbose:
            print(f"fold {i}: validation MAE {val_mae:.4f}")
    return scores


def run(epochs=100, batch_size=1, k=4, final_epochs=80, final_batch_size=16, seed=0, data=None, verbose=1):
    """K-fold validation, then a final model on all the training data; returns
    (fold validation MAEs, test MAE). data: ((x_train, y_train), (x_test, y_test)), by default
    pynn.datasets.boston_housing.load_data(). final_epochs=0 skips the final model (test MAE None)."""
    pynn.random.seed(seed)
    (x_train, y_train), (x_test, y_test) = data if data is not None else pynn.datasets.boston_housing.load_data()
    x_train, x_test = normalize(x_train, x_test)
    y_train, y_test = y_train.astype("float32"), y_test.astype("float32")
    scores = k_fold_validation(x_train, y_train, k, epochs, batch_size, verbose)
    if verbose:
        print(f"mean validation MAE over {k} folds: {np.mean(scores):.4f}")
    test_mae = None
    if final_epochs:
        model = build_model(x_train.shape[1])
        model.fit(x_train, y_train, epochs=final_epochs, batch_size=final_batch_size, verbose=0)
        _, test_mae = model.evaluate(x_test, y_test, verbose=0)
        test_mae = float(test_mae)
    return scores, test_mae


def main(argv=None):
    p = _cli.parser(__doc__, epochs=100, batch_size=1)
    p.add_argument("--folds", type=int, default=4)
    p.add_argument("--final-epochs", type=int, default=80)

    def train(a):
        _, test_mae = run(a.epochs, a.batch_size, a.folds, a.final_epochs, seed=a.seed)
        return None if test_mae is None else f"test MAE: {test_mae:.4f}"

    return _cli.main(p, argv, train)


if __name__ == "__main__":
    sys.exit(main())
