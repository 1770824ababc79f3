"""Learning-rate schedules at the steps and with the values Keras 3's
learning_rate_schedule_test.py states, and their config round trips."""

import math

import numpy as np
import pytest

import pynn
from pynn.optimizers import schedules as S


def close(a, b, tol=1e-6):
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_exponential_decay():
    close(S.ExponentialDecay(0.05, 10, 0.96)(5), 0.05 * 0.96 ** 0.5)
    stair = S.ExponentialDecay(0.1, 3, 0.96, staircase=True)
    close(stair(1), 0.1)
    close(stair(2), 0.1)
    close(stair(100), 0.1 * 0.96 ** (100 // 3))
    step = pynn.Variable(100, dtype="int64")  # a counter variable works as a step
    close(stair(step), 0.1 * 0.96 ** 33)


def test_piecewise_constant_decay():
    f = S.PiecewiseConstantDecay([100, 110, 120], [1.0, 0.1, 0.01, 0.001])
    for step, expected in ((-999, 1.0), (100, 1.0), (105, 0.1), (110, 0.1), (120, 0.01), (999, 0.001)):
        close(f(step), expected)
    g = S.PiecewiseConstantDecay([1, 2, 3], [0.4, 0.5, 0.6, 0.7])
    assert [g(s) for s in range(5)] == [0.4, 0.4, 0.5, 0.6, 0.7]
    with pytest.raises(ValueError, match="1 less than"):
        S.PiecewiseConstantDecay([1, 2], [0.1, 0.2])


@pytest.mark.parametrize("power", [1.0, 0.5])
def test_polynomial_decay(power):
    lr, end = 0.05, 0.001
    close(S.PolynomialDecay(lr, 10, 0.0, power=power)(5), lr * 0.5 ** power)
    close(S.PolynomialDecay(lr, 10, end, power=power)(10), end)
    close(S.PolynomialDecay(lr, 10, end, power=power)(5), (lr - end) * 0.5 ** power + end)
    close(S.PolynomialDecay(lr, 10, end, power=power)(15), end)
    close(S.PolynomialDecay(lr, 10, end, power=power, cycle=True)(15), (lr - end) * 0.25 ** power + end)
    close(S.PolynomialDecay(0.001, 10, power=power, cycle=True)(0), 0.001)
    if power == 1.0:
        close(S.PolynomialDecay(lr, 10, end)(5), (lr + end) * 0.5)


@pytest.mark.parametrize("staircase", [False, True])
def test_inverse_time_decay(staircase):
    f = S.InverseTimeDecay(0.1, 10, 0.96, staircase=staircase)
    for i in range(11):
        p = i // 10 if staircase else i / 10
        close(f(i), 0.1 / (1 + 0.96 * p))


def np_cosine(step, decay_steps, alpha=0.0):
    step = min(step, decay_steps)
    return (1.0 - alpha) * 0.5 * (1.0 + math.cos(math.pi * step / decay_steps)) + alpha


def test_cosine_decay():
    for step in range(0, 1500, 250):
        close(S.CosineDecay(1.0, 1000)(step), np_cosine(step, 1000))
        close(S.CosineDecay(1.0, 1000, 0.1)(step), np_cosine(step, 1000, 0.1))
        close(S.CosineDecay(np.float64(1.0), 1000)(step), np_cosine(step, 1000))
        close(S.CosineDecay(0.0, 10, warmup_target=10.0, warmup_steps=1500)(step), step / 1500 * 10.0)
    for step in range(0, 3000, 250):
        f = S.CosineDecay(0.0, 1000, warmup_target=10.0, warmup_steps=2000)
        expected = step / 2000 * 10.0 if step <= 2000 else 10.0 * np_cosine(step - 2000, 1000)
        close(f(step), expected)


def np_restarts(step, decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0):
    fac = 1.0
    while step >= decay_steps:
        step -= decay_steps
        decay_steps *= t_mul
        fac *= m_mul
    return (1.0 - alpha) * fac * 0.5 * (1.0 + math.cos(math.pi * step / decay_steps)) + alpha


@pytest.mark.parametrize("kw", [{}, {"alpha": 0.1}, {"m_mul": 0.9}, {"t_mul": 1.0}, {"t_mul": 3.0, "m_mul": 0.5}])
def test_cosine_decay_restarts(kw):
    for step in range(0, 1500, 250):
        close(S.CosineDecayRestarts(1.0, 1000, **kw)(step), np_restarts(step, 1000, **kw))
    for step in range(0, 40):  # through several restarts
        close(S.CosineDecayRestarts(0.5, 3, **kw)(step), 0.5 * np_restarts(step, 3, **kw), 1e-9)


CONFIGS = [
    S.ExponentialDecay(initial_learning_rate=0.05, decay_steps=10, decay_rate=0.96, staircase=True, name="my_ed"),
    S.PiecewiseConstantDecay(boundaries=[10, 20], values=[1, 2, 3], name="my_pcd"),
    S.PolynomialDecay(initial_learning_rate=0.1, decay_steps=100, end_learning_rate=0.005, power=1.0, cycle=False,
                      name="my_ld"),
    S.InverseTimeDecay(initial_learning_rate=0.05, decay_steps=10, decay_rate=0.96, staircase=True, name="my_itd"),
    S.CosineDecay(initial_learning_rate=0.05, decay_steps=10, alpha=0.1, warmup_target=0.2, warmup_steps=2,
                  name="my_cd"),
    S.CosineDecayRestarts(initial_learning_rate=0.05, first_decay_steps=10, alpha=0.1, t_mul=3.0, m_mul=4.0,
                          name="my_cdr"),
]


@pytest.mark.parametrize("schedule", CONFIGS, ids=lambda s: type(s).__name__)
def test_config_round_trips(schedule):
    config = schedule.get_config()
    again = type(schedule).from_config(config)
    assert again.get_config() == config
    ser = S.serialize(schedule)
    assert ser["class_name"] == type(schedule).__name__ and ser["module"] == "keras.optimizers.schedules"
    back = S.deserialize(ser)
    assert type(back) is type(schedule) and back.get_config() == config
    assert [back(s) for s in range(0, 40, 7)] == [schedule(s) for s in range(0, 40, 7)]


def test_custom_schedules_and_errors():
    class Halving(S.LearningRateSchedule):
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, step):
            return self.rate / (step + 1)

        def get_config(self):
            return {"rate": self.rate}

    opt = pynn.optimizers.SGD(learning_rate=Halving(1.0))
    again = pynn.optimizers.SGD.from_config(opt.get_config(), custom_objects={"Halving": Halving})
    assert isinstance(again._learning_rate, Halving) and again._learning_rate.rate == 1.0
    back = S.deserialize(S.serialize(Halving(0.5)), custom_objects={"Halving": Halving})
    assert back(1) == 0.25
    with pytest.raises(ValueError, match="unknown learning rate schedule"):
        S.deserialize({"class_name": "Halving", "config": {"rate": 1.0}})
    with pytest.raises(NotImplementedError, match="__call__"):
        S.LearningRateSchedule()(0)
    with pytest.raises(ValueError, match="ExponentialDecay: argument `decay_steps` must be > 0"):
        S.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="CosineDecayRestarts: argument `first_decay_steps`"):
        S.CosineDecayRestarts(0.1, 0)
