"""The examples run and reach what they promise."""

import importlib.util
import os
import pathlib

import pytest

import pynn

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name.replace("/", "_"), EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_linear_classifier_reaches_99_percent():
    accuracy, loss = load("linear_classifier").train(verbose=False)
    assert accuracy > 0.99
    assert loss < 0.05


def test_two_layer_net_gradient_check():
    module = load("two_layer_net")
    for activation in (pynn.sigmoid, pynn.relu):
        diffs = module.gradient_check(batch=3, activation=activation)
        assert set(diffs) == {"W1", "b1", "W2", "b2"}
        assert all(d < 1e-6 for d in diffs.values()), diffs


def test_simple_convnet_gradient_check():
    """"Deep Learning from Scratch"'s SimpleConvNet: the tape's gradients equal the book's numerical
    gradients (float64) for every parameter."""
    module = load("from_scratch/simple_convnet")
    diffs = module.gradient_check(batch=2)
    assert set(diffs) == {"W1", "b1", "W2", "b2", "W3", "b3"}
    assert all(d < 1e-7 for d in diffs.values()), diffs


HAVE_DATA = bool(os.environ.get("PYNN_DATA")) and os.path.isdir(os.path.join(os.environ["PYNN_DATA"], "mnist"))


@pytest.mark.skipif(not HAVE_DATA, reason="set PYNN_DATA to a folder holding mnist/ (e.g. PYNN_DATA=../shared/data)")
def test_mnist_convnet_learns_on_a_subset():
    """Keras' MNIST convnet (examples/mnist_convnet.py) on the first 6000 images: one epoch, captured."""
    from pynn.examples import convnet

    model, history, loss, acc = convnet.run(epochs=1, limit=6000, verbose=0)
    assert model.count_params() == 34826  # Keras' summary of the example: 34,826 parameters
    assert acc > 0.8, f"test accuracy {acc} after 1 epoch on 5400 images (0.861 with seed 0)"
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert {info["path"] for info in model.plan_info() if info["mode"] == "train"} <= {"captured", "pending"}
