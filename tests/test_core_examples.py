"""The examples run and reach what they promise."""

import importlib.util
import pathlib

import pynn

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
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
