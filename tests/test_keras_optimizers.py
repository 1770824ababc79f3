"""Optimizers against Keras 3's stated numbers (keras/src/optimizers/*_test.py: single steps,
golden trajectories, weight decay, EMA, gradient accumulation), against NumPy float64
versions of each rule over several steps, and the compiled training step against the
eager one for every optimizer it accepts."""

import pickle

import numpy as np
import pytest

import pynn
from pynn import layers, optimizers
from pynn.optimizers import schedules

from oracle import assert_same_state, captured_and_eager

O = optimizers

# ---------------------------------------------------------------- Keras' numbers

SINGLE_STEP = {  # optimizer(learning_rate=0.5), var [1, 2, 3, 4], grad [1, 6, 7, 2]
    "SGD": [0.5, -1.0, -0.5, 3.0],
    "Adam": [0.5, 1.5, 2.5, 3.5],
    "AdamW": [0.4980, 1.4960, 2.494, 3.492],
    "RMSprop": [-0.5811, 0.4189, 1.4189, 2.4189],
    "Adagrad": [0.5233, 1.5007, 2.5005, 3.5061],
    "Adamax": [0.5, 1.5, 2.5, 3.5],
    "Nadam": [0.4686, 1.4686, 2.4686, 3.4686],
    "Adadelta": [0.9993, 1.9993, 2.9993, 3.9993],
    "Lion": [0.5, 1.5, 2.5, 3.5],
    "Ftrl": [0.2218, 1.3954, 2.3651, 2.8814],
}


@pytest.mark.parametrize("name", sorted(SINGLE_STEP))
def test_single_step_matches_keras(name):
    opt = getattr(O, name)(learning_rate=0.5)
    v = pynn.Variable(np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    opt.apply_gradients(zip([pynn.tensor(np.array([1.0, 6.0, 7.0, 2.0], np.float32))], [v]))
    np.testing.assert_allclose(np.asarray(v), SINGLE_STEP[name], rtol=1e-4, atol=1e-4)
    assert opt.iterations == 1


def _tile(column):
    return np.tile(np.array(column)[:, None], (1, 10))


GOLDEN = {  # first a gradient of 0.01 everywhere, then arange(0.1, 1.1, 0.1) five times
    "adam-amsgrad": (lambda: O.Adam(amsgrad=True), _tile([0.999, 0.9982, 0.9974, 0.9965, 0.9955])),
    "rmsprop-centered": (lambda: O.RMSprop(centered=True), _tile([0.9967, 0.9933, 0.9908, 0.9885, 0.9864])),
    "adadelta": (lambda: O.Adadelta(learning_rate=1.0, rho=0.8, epsilon=1e-6),
                 _tile([0.9978, 0.9947, 0.9915, 0.9882, 0.9849])),
    "lion": (lambda: O.Lion(), _tile([0.999, 0.998, 0.997, 0.996, 0.995])),
    "adamax": (lambda: O.Adamax(learning_rate=0.2, beta_1=0.85, beta_2=0.95, epsilon=1e-6), np.array([
        [0.8] * 10,
        [0.6827, 0.6873, 0.6888, 0.6896, 0.6901, 0.6904, 0.6906, 0.6908, 0.6909, 0.691],
        [0.5333, 0.5407, 0.5431, 0.5444, 0.5451, 0.5456, 0.546, 0.5462, 0.5464, 0.5466],
        [0.368, 0.3773, 0.3804, 0.382, 0.3829, 0.3835, 0.384, 0.3843, 0.3846, 0.3848],
        [0.1933, 0.204, 0.2076, 0.2094, 0.2105, 0.2112, 0.2117, 0.2121, 0.2124, 0.2126]])),
    "nadam": (lambda: O.Nadam(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5), np.array([
        [0.4281] * 10,
        [-0.1738, -0.1731, -0.1726, -0.1723, -0.1721, -0.172, -0.1719, -0.1718, -0.1718, -0.1717],
        [-0.7115, -0.7103, -0.7096, -0.7092, -0.709, -0.7088, -0.7086, -0.7085, -0.7085, -0.7084],
        [-1.2335, -1.2322, -1.2313, -1.2309, -1.2306, -1.2304, -1.2302, -1.2301, -1.23, -1.2299],
        [-1.7492, -1.7478, -1.7469, -1.7464, -1.7461, -1.7459, -1.7457, -1.7456, -1.7455, -1.7454]])),
    "ftrl": (lambda: O.Ftrl(learning_rate=0.05, learning_rate_power=-0.2, initial_accumulator_value=0.4,
                            l1_regularization_strength=0.05, l2_regularization_strength=0.15,
                            l2_shrinkage_regularization_strength=0.01, beta=0.3), np.array([
        [0.0] * 10,
        [-0.0034, -0.0077, -0.0118, -0.0157, -0.0194, -0.023, -0.0263, -0.0294, -0.0325, -0.0354],
        [-0.0078, -0.0162, -0.0242, -0.0317, -0.0387, -0.0454, -0.0516, -0.0575, -0.0631, -0.0685],
        [-0.0121, -0.0246, -0.0363, -0.0472, -0.0573, -0.0668, -0.0757, -0.0842, -0.0922, -0.0999],
        [-0.0164, -0.0328, -0.0481, -0.0623, -0.0753, -0.0875, -0.099, -0.1098, -0.1201, -0.1299]])),
    "adagrad": (lambda: O.Adagrad(learning_rate=0.2, initial_accumulator_value=0.3, epsilon=1e-6), np.array([
        [0.9963] * 10,
        [0.9604, 0.9278, 0.9003, 0.8784, 0.8615, 0.8487, 0.8388, 0.8313, 0.8255, 0.8209],
        [0.9251, 0.8629, 0.8137, 0.7768, 0.7497, 0.7298, 0.7151, 0.704, 0.6956, 0.6891],
        [0.8903, 0.8012, 0.7342, 0.6862, 0.6521, 0.6277, 0.6099, 0.5967, 0.5867, 0.579],
        [0.856, 0.7422, 0.6604, 0.6037, 0.5644, 0.5367, 0.5168, 0.5021, 0.491, 0.4825]])),
    "sgd-nesterov": (lambda: O.SGD(nesterov=True), np.array([
        [0.9999] * 10,
        [0.9989, 0.9979, 0.9969, 0.9959, 0.9949, 0.9939, 0.9929, 0.9919, 0.9909, 0.9899],
        [0.9979, 0.9959, 0.9939, 0.9919, 0.9899, 0.9879, 0.9859, 0.9839, 0.9819, 0.9799],
        [0.9969, 0.9939, 0.9909, 0.9879, 0.9849, 0.9819, 0.9789, 0.9759, 0.9729, 0.9699],
        [0.9959, 0.9919, 0.9879, 0.9839, 0.9799, 0.9759, 0.9719, 0.9679, 0.9639, 0.9599]])),
    "adamw": (lambda: O.AdamW(learning_rate=1.0, weight_decay=0.5, epsilon=2), np.array([
        [0.4998] * 10,
        [0.2486, 0.2475, 0.2463, 0.2451, 0.244, 0.2428, 0.2417, 0.2405, 0.2394, 0.2382],
        [0.1223, 0.1198, 0.1174, 0.1149, 0.1124, 0.11, 0.1075, 0.1051, 0.1027, 0.1003],
        [0.0586, 0.0549, 0.0512, 0.0475, 0.0439, 0.0402, 0.0366, 0.033, 0.0294, 0.0258],
        [0.0263, 0.0215, 0.0167, 0.012, 0.0073, 0.0026, -0.0021, -0.0067, -0.0113, -0.0159]])),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_trajectories_match_keras(name, dtype):
    make, golden = GOLDEN[name]
    opt = make()
    x = pynn.Variable(np.ones(10, dtype))
    grads = pynn.tensor(np.arange(0.1, 1.1, 0.1)[:10].astype(dtype))
    opt.apply_gradients(zip([pynn.tensor(np.full(10, 0.01, dtype))], [x]))
    for row in golden:
        np.testing.assert_allclose(np.asarray(x), row, rtol=5e-4, atol=5e-4)
        opt.apply_gradients(zip([grads], [x]))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "Nadam", "Adadelta",
                                  "Lion"])
def test_weight_decay_and_its_exclusions_match_keras(name):
    cls = getattr(O, name)
    g = pynn.zeros(())
    var1, var2, var3 = pynn.Variable(2.0), pynn.Variable(2.0, name="exclude"), pynn.Variable(2.0)
    cls(learning_rate=1.0, weight_decay=0.004).apply_gradients(zip([g], [var1]))
    opt2 = cls(learning_rate=1.0, weight_decay=0.004)
    opt2.exclude_from_weight_decay(var_names=["exclude"])
    opt2.apply_gradients(zip([g, g], [var1, var2]))
    opt3 = cls(learning_rate=1.0, weight_decay=0.004)
    opt3.exclude_from_weight_decay(var_list=[var3])
    opt3.apply_gradients(zip([g, g], [var1, var3]))
    assert abs(float(var1) - 1.9760959) < 1e-6
    assert float(var2) == 2.0 and float(var3) == 2.0


def test_ema_matches_keras():
    v = pynn.Variable(np.array([[3.0, 4.0], [5.0, 6.0]], np.float32))
    g = pynn.ones((2, 2))
    opt = O.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=3)
    opt.apply_gradients([(g, v)])
    np.testing.assert_allclose(np.asarray(v), [[2, 3], [4, 5]])
    np.testing.assert_allclose(np.asarray(opt._model_variables_moving_average[0]), [[2, 3], [4, 5]])
    opt.apply_gradients([(g, v)])
    np.testing.assert_allclose(np.asarray(v), [[1, 2], [3, 4]])
    np.testing.assert_allclose(np.asarray(opt._model_variables_moving_average[0]), [[1.9, 2.9], [3.9, 4.9]],
                               rtol=1e-6)
    opt.apply_gradients([(g, v)])  # the third update overwrites the variable with the average
    np.testing.assert_allclose(np.asarray(v), [[1.71, 2.71], [3.71, 4.71]], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(opt._model_variables_moving_average[0]), np.asarray(v))


def test_adam_ema_overwrite_frequency_and_finalize_match_keras():
    opt = O.Adam(learning_rate=1.0, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=2)
    plain = O.Adam(learning_rate=1.0)
    var, ref = (pynn.Variable(np.array([1.0, 2.0], np.float32)) for _ in range(2))
    g = pynn.tensor(np.array([0.1, 0.2], np.float32))
    opt.apply_gradients([(g, var)])
    plain.apply_gradients([(g, ref)])
    v1 = np.asarray(ref).copy()
    np.testing.assert_allclose(np.asarray(var), v1)
    opt.apply_gradients([(g, var)])
    plain.apply_gradients([(g, ref)])
    expected = 0.9 * v1 + 0.1 * np.asarray(ref)
    np.testing.assert_allclose(np.asarray(var), expected, rtol=1e-6)


def test_ema_with_fit_matches_keras():
    pynn.random.seed(0)
    m = pynn.Sequential([layers.Input((1,)), layers.Dense(2, kernel_initializer="ones", use_bias=False)])
    opt = O.SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.9)
    m.compile(optimizer=opt, loss="mse")
    m.fit(np.ones((1, 1), np.float32), np.zeros((1, 1), np.float32), batch_size=1, epochs=2, verbose=0)
    np.testing.assert_allclose(np.asarray(opt._model_variables_moving_average[0]), [[0.891, 0.891]], atol=1e-5)
    np.testing.assert_allclose(m.trainable_variables[0].numpy(), [[0.891, 0.891]], atol=1e-5)  # finalized


def test_gradient_accumulation_matches_keras():
    v = pynn.Variable(np.array([[1.0, 2.0], [3.0, 4.0]], np.float32))
    g = pynn.ones((2, 2))
    opt = O.SGD(learning_rate=1.0, gradient_accumulation_steps=3)
    expected = [([[1, 2], [3, 4]], 1, 1, 0), ([[1, 2], [3, 4]], 2, 2, 0), ([[0, 1], [2, 3]], 0, 3, 1),
                ([[0, 1], [2, 3]], 1, 4, 1)]
    for value, acc, calls, updates in expected:
        opt.apply_gradients([(g, v)])
        np.testing.assert_array_equal(np.asarray(v), value)
        np.testing.assert_array_equal(np.asarray(opt._accumulated_gradients[0]), np.full((2, 2), acc))
        assert int(opt._iterations) == calls and opt.iterations == updates


@pytest.mark.parametrize("name", ["adam", "sgd", "adamw", "adagrad", "rmsprop", "adadelta", "adamax", "lion",
                                  "nadam", "ftrl"])
def test_gradient_accumulation_is_the_mean_gradient(name):
    one = O.get({"class_name": name, "config": {"weight_decay": 0.05}})
    three = O.get({"class_name": name, "config": {"weight_decay": 0.05, "gradient_accumulation_steps": 3}})
    v1, v3 = pynn.Variable(np.array([[0.9], [0.5]])), pynn.Variable(np.array([[0.9], [0.5]]))
    rng = np.random.default_rng(0)
    for _ in range(8):
        g3 = rng.random((3, 2, 1))
        one.apply_gradients([(pynn.tensor(g3.mean(axis=0)), v1)])
        for b in range(3):
            three.apply_gradients([(pynn.tensor(g3[b]), v3)])
    np.testing.assert_allclose(np.asarray(v3), np.asarray(v1), rtol=1e-12, atol=1e-12)
    assert three.iterations == one.iterations == 8


def test_learning_rate_is_a_variable():
    opt = O.SGD(learning_rate=0.5)
    assert len(opt.variables) == 2
    v = pynn.Variable(np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    opt.build([v])
    opt.apply_gradients(zip([pynn.tensor(np.array([1.0, 6.0, 7.0, 2.0], np.float32))], [v]))
    assert len(opt.variables) == 2 and int(opt.variables[0]) == 1 and float(opt.variables[1]) == 0.5
    assert opt.variables() == opt.variables  # still callable, as before
    lr = opt.learning_rate
    assert isinstance(lr, pynn.Variable) and float(lr) == 0.5
    lr.assign(0.25)
    assert opt.get_config()["learning_rate"] == 0.25
    opt.learning_rate = 0.125
    assert opt.learning_rate is lr and float(lr) == 0.125
    opt.apply_gradients(zip([pynn.ones(4)], [v]))
    np.testing.assert_allclose(np.asarray(v), [0.5 - 0.125, -1.125, -0.625, 2.875])
    with pytest.raises(ValueError, match="learning_rate"):
        O.SGD(learning_rate="fast")
    with pytest.raises(ValueError, match="learning_rate"):
        O.SGD(learning_rate=-1.0)


def test_callable_and_schedule_learning_rates():
    v = pynn.Variable(np.array([[1.0, 2.0], [3.0, 4.0]]))
    opt = O.SGD(learning_rate=lambda: 0.1)
    opt.apply_gradients([(pynn.ones((2, 2)), v)])
    np.testing.assert_allclose(np.asarray(v), [[0.9, 1.9], [2.9, 3.9]])
    adam = O.Adam(learning_rate=0.001)
    assert len(adam.variables) == 2
    adam.learning_rate = schedules.PolynomialDecay(adam.learning_rate, 4)
    assert len(adam.variables) == 1  # the schedule replaces the variable
    with pytest.raises(TypeError, match="cannot be set"):
        adam.learning_rate = 0.1
    # the schedule sees the step count before each update: 0.1, 0.05, 0.025
    sgd = O.SGD(learning_rate=schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5))
    w = pynn.Variable(np.zeros(1))
    for expected in (-0.1, -0.15, -0.175):
        sgd.apply_gradients([(pynn.ones(1), w)])
        np.testing.assert_allclose(np.asarray(w), [expected])
    assert float(sgd.learning_rate) == 0.1 * 0.5 ** 3


def test_fit_with_a_schedule_matches_keras():
    m = pynn.Sequential([layers.Input((2,)), layers.Dense(2, kernel_initializer="ones", bias_initializer="ones")])
    opt = O.Adam(learning_rate=schedules.ExponentialDecay(initial_learning_rate=0.05, decay_steps=1,
                                                           decay_rate=0.9))
    assert len(opt.variables) == 1 and int(opt.variables[0]) == 0
    m.compile(optimizer=opt, loss="mse")
    x = np.arange(32, dtype=np.float32).reshape((16, 2))
    history = m.fit(x, x.copy(), epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert int(opt.variables[0]) == 4 * 3
    np.testing.assert_allclose(history.history["loss"], [230.79457092285156, 128.30319213867188, 79.33648681640625],
                               rtol=5e-5)


CONFIGS = {
    "SGD": dict(learning_rate=0.5, momentum=0.06, nesterov=True, weight_decay=0.004),
    "Adam": dict(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5, amsgrad=True),
    "AdamW": dict(learning_rate=0.5, weight_decay=0.008, beta_1=0.5, beta_2=0.67, epsilon=1e-5, amsgrad=True),
    "RMSprop": dict(learning_rate=0.5, rho=0.8, momentum=0.05, epsilon=1e-6, centered=True),
    "Adagrad": dict(learning_rate=0.5, initial_accumulator_value=0.2, epsilon=1e-5),
    "Adamax": dict(learning_rate=0.5, beta_1=0.8, beta_2=0.95, epsilon=1e-5),
    "Nadam": dict(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5),
    "Adadelta": dict(learning_rate=0.5, rho=0.9, epsilon=1e-5),
    "Lion": dict(learning_rate=0.5, beta_1=0.5, beta_2=0.67),
    "Ftrl": dict(learning_rate=0.05, learning_rate_power=-0.2, initial_accumulator_value=0.4,
                 l1_regularization_strength=0.05, l2_regularization_strength=0.15,
                 l2_shrinkage_regularization_strength=0.01, beta=0.3),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_config_round_trips(name):
    opt = getattr(O, name)(use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2, clipnorm=1.5,
                           gradient_accumulation_steps=2, **CONFIGS[name])
    config = opt.get_config()
    for key, value in CONFIGS[name].items():
        assert config[key] == value
    assert config["use_ema"] is True and config["gradient_accumulation_steps"] == 2 and config["clipnorm"] == 1.5
    again = type(opt).from_config(config)
    assert again.get_config() == config
    assert O.deserialize(O.serialize(opt)).get_config() == config
    assert O.get({"class_name": name, "config": config}).get_config() == config
    assert pickle.loads(pickle.dumps(opt)).get_config() == config
    sched = O.SGD(learning_rate=schedules.CosineDecay(0.1, 100, warmup_target=0.2, warmup_steps=5))
    again = O.SGD.from_config(sched.get_config())
    assert isinstance(again._learning_rate, schedules.CosineDecay)
    assert again.get_config() == sched.get_config()


def test_argument_checks_and_names():
    with pytest.raises(ValueError, match="beta_1"):
        O.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="beta_1"):
        O.Lion(beta_1=1.1)
    with pytest.raises(ValueError, match="learning_rate_power"):
        O.Ftrl(learning_rate_power=0.1)
    with pytest.raises(ValueError, match="l1_regularization_strength"):
        O.Ftrl(l1_regularization_strength=-0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        O.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        O.SGD(gradient_accumulation_steps=1)
    with pytest.raises(ValueError, match="ema_momentum"):
        O.SGD(use_ema=True, ema_momentum=2.0)
    with pytest.raises(ValueError, match="not recognized"):
        O.SGD(momentun=0.9)
    assert O.get(None) is None
    for name in ("adamax", "nadam", "adadelta", "lion", "ftrl"):
        assert type(O.get(name)).__name__.lower() == name
    a, b = O.Nadam(), O.Nadam()
    assert b.name == a.name + "_1" or b.name.startswith("nadam_")
    assert O.AdamW().name.startswith("adam_w")
    assert O.Adam(name="my_adam").name == "my_adam"


def test_loss_scale_factor_divides_gradients():
    v = pynn.Variable(np.array([[1.0, 2.0], [3.0, 4.0]]))
    opt = O.SGD(learning_rate=1.0, loss_scale_factor=1024.0)
    opt.apply_gradients([(pynn.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]) * 1024.0), v)])
    np.testing.assert_array_equal(np.asarray(v), np.zeros((2, 2)))
    assert opt.scale_loss(1.0) == 1024.0


@pytest.mark.parametrize("clip", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_zero_clip_means_no_clipping(clip):
    v = pynn.Variable(np.zeros(2))
    opt = O.SGD(learning_rate=1.0, **{clip: 0.0})
    opt.apply_gradients([(pynn.tensor(np.array([3.0, -4.0])), v)])
    np.testing.assert_array_equal(np.asarray(v), [-3.0, 4.0])  # Keras: `if self.clipnorm and ...`


def test_set_weights_copies_state():
    x = pynn.Variable(np.array([[1.0, 2.0], [3.0, 4.0]]))
    a = O.Adam()
    a.apply_gradients([(pynn.tensor(np.array([[1.0, 2.0], [3.0, 4.0]])), x)])
    b = O.Adam()
    with pytest.raises(ValueError, match="not built"):
        b.set_weights(a.variables)
    b.build([x])
    b.set_weights(a.variables)
    assert len(a.variables) == len(b.variables) == 4
    for va, vb in zip(a.variables, b.variables):
        np.testing.assert_array_equal(np.asarray(va), np.asarray(vb))


# ---------------------------------------------------------------- NumPy float64 references


def np_amsgrad(w, g, s, t, lr=0.01, b1=0.8, b2=0.9, eps=1e-7):
    m = s[0] + (g - s[0]) * (1 - b1)
    v = s[1] + (g * g - s[1]) * (1 - b2)
    vh = np.maximum(s[2], v)
    return w - lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(vh) + eps), [m, v, vh]


def np_centered(w, g, s, t, lr=0.01, rho=0.8, mom=0.5, eps=1e-7):
    v = rho * s[0] + (1 - rho) * g * g
    a = rho * s[1] + (1 - rho) * g
    m = mom * s[2] + lr * g / np.sqrt(v - a * a + eps)
    return w - m, [v, a, m]


def np_adamax(w, g, s, t, lr=0.01, b1=0.8, b2=0.9, eps=1e-7):
    m = s[0] + (g - s[0]) * (1 - b1)
    u = np.maximum(b2 * s[1], np.abs(g))
    return w - lr * m / ((1 - b1 ** t) * (u + eps)), [m, u]


def np_nadam(w, g, s, t, lr=0.01, b1=0.8, b2=0.9, eps=1e-7):
    u = [b1 * (1 - 0.5 * 0.96 ** k) for k in range(1, t + 2)]
    p_t, p_next = np.prod(u[:t]), np.prod(u[:t + 1])
    m = s[0] + (g - s[0]) * (1 - b1)
    v = s[1] + (g * g - s[1]) * (1 - b2)
    m_hat = u[t] * m / (1 - p_next) + (1 - u[t - 1]) * g / (1 - p_t)
    return w - lr * m_hat / (np.sqrt(v / (1 - b2 ** t)) + eps), [m, v]


def np_adadelta(w, g, s, t, lr=0.5, rho=0.8, eps=1e-7):
    a = rho * s[0] + (1 - rho) * g * g
    d = -np.sqrt(s[1] + eps) * g / np.sqrt(a + eps)
    return w + lr * d, [a, rho * s[1] + (1 - rho) * d * d]


def np_lion(w, g, s, t, lr=0.01, b1=0.8, b2=0.9):
    return w - lr * np.sign(b1 * s[0] + (1 - b1) * g), [b2 * s[0] + (1 - b2) * g]


def np_ftrl(w, g, s, t, lr=0.05, power=-0.2, l1=0.05, l2=0.15, shrink=0.01, beta=0.3):
    l2 = l2 + beta / (2 * lr)
    n = s[0] + g * g
    z = s[1] + g + 2 * shrink * w - (n ** -power - s[0] ** -power) / lr * w
    return (np.clip(z, -l1, l1) - z) / (n ** -power / lr + 2 * l2), [n, z]


def np_ftrl_sqrt(w, g, s, t):
    return np_ftrl(w, g, s, t, power=-0.5, l1=0.0, l2=0.0, shrink=0.0, beta=0.0)


def decayed(reference, lr, wd=0.1):
    def step(w, g, s, t):
        return reference(w - w * wd * lr, g, s, t)
    return step


REFERENCES = {  # optimizer, reference, number of slots, initial slot values
    "adam-amsgrad": (lambda: O.Adam(0.01, 0.8, 0.9, amsgrad=True), np_amsgrad, [0, 0, 0]),
    "adamw-amsgrad": (lambda: O.AdamW(0.01, 0.1, 0.8, 0.9, amsgrad=True), decayed(np_amsgrad, 0.01), [0, 0, 0]),
    "rmsprop-centered": (lambda: O.RMSprop(0.01, 0.8, 0.5, centered=True), np_centered, [0, 0, 0]),
    "adamax": (lambda: O.Adamax(0.01, 0.8, 0.9), np_adamax, [0, 0]),
    "adamax-decay": (lambda: O.Adamax(0.01, 0.8, 0.9, weight_decay=0.1), decayed(np_adamax, 0.01), [0, 0]),
    "nadam": (lambda: O.Nadam(0.01, 0.8, 0.9), np_nadam, [0, 0]),
    "adadelta": (lambda: O.Adadelta(0.5, 0.8), np_adadelta, [0, 0]),
    "lion": (lambda: O.Lion(0.01, 0.8, 0.9), np_lion, [0]),
    "lion-decay": (lambda: O.Lion(0.01, 0.8, 0.9, weight_decay=0.1), decayed(np_lion, 0.01), [0]),
    "ftrl": (lambda: O.Ftrl(0.05, -0.2, 0.4, 0.05, 0.15, 0.01, 0.3), np_ftrl, [0.4, 0]),
    "ftrl-sqrt": (lambda: O.Ftrl(0.05), np_ftrl_sqrt, [0.1, 0]),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_rules_follow_numpy_references(name):
    make, reference, init = REFERENCES[name]
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((9, 4))
    w = pynn.Variable(w0)
    opt = make()
    ref = (w0, [np.full_like(w0, c) for c in init])
    for t in range(1, 7):
        g = rng.standard_normal((9, 4))
        g[0, 0] = 0.0  # sign(0) and friends
        opt.apply_gradients([(pynn.tensor(g), w)])
        ref = reference(ref[0], g, ref[1], t)
    np.testing.assert_allclose(np.asarray(w), ref[0], rtol=1e-12, atol=1e-12)
    for s, r in zip(opt._slots_of(w), ref[1], strict=True):
        np.testing.assert_allclose(np.asarray(s), r, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- compiled step == eager step


FUSED = {
    "adam-amsgrad": lambda: O.Adam(0.01, amsgrad=True),
    "adamw-amsgrad": lambda: O.AdamW(0.01, weight_decay=0.1, amsgrad=True),
    "rmsprop-centered": lambda: O.RMSprop(0.002, centered=True),
    "rmsprop-centered-momentum": lambda: O.RMSprop(0.002, momentum=0.5, centered=True),
    "adamax": lambda: O.Adamax(0.01, weight_decay=0.05),
    "nadam": lambda: O.Nadam(0.01),
    "adadelta": lambda: O.Adadelta(1.0),
    "lion": lambda: O.Lion(0.001, weight_decay=0.1),
    "ftrl": lambda: O.Ftrl(0.05, -0.2, 0.4, 0.05, 0.15, 0.01, 0.3),
    "sgd-schedule": lambda: O.SGD(schedules.InverseTimeDecay(0.05, 2, 0.5), momentum=0.9),
    "adam-callable-rate": lambda: O.Adam(lambda: 0.01),
}


def _dense_model(optimizer):
    pynn.random.seed(0)
    m = pynn.Sequential([layers.Input((12,)), layers.Dense(9, activation="relu"),
                         layers.Dense(4, activation="softmax")])
    m.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


@pytest.mark.parametrize("name", sorted(FUSED))
def test_captured_step_matches_the_eager_step(name):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 200)
    x = (rng.normal(0, 2, (4, 12))[y] + rng.normal(0, 1, (200, 12))).astype(np.float32)

    def make(**options):
        m = _dense_model(FUSED[name]())
        m.compile(optimizer=m.optimizer, loss=m.loss, metrics=["accuracy"], **options)
        return m

    (ha, a), (hb, b) = captured_and_eager(make, lambda m: m.fit(x, y, batch_size=50, epochs=3, verbose=0).history)
    assert ha == hb
    assert_same_state(a, b)


@pytest.mark.parametrize("make", [
    lambda: O.Ftrl(schedules.PiecewiseConstantDecay([3], [0.05, 0.02]), l1_regularization_strength=0.01),
    lambda: O.Nadam(schedules.CosineDecay(0.01, 20, warmup_target=0.02, warmup_steps=3)),
    lambda: O.Adam(0.01, amsgrad=True, weight_decay=0.01),
    lambda: O.RMSprop(0.01, momentum=0.5, centered=True),
], ids=["ftrl", "nadam", "amsgrad", "centered"])
def test_saved_models_continue_training_identically(tmp_path, make):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 120)
    x = (rng.normal(0, 2, (4, 12))[y] + rng.normal(0, 1, (120, 12))).astype(np.float32)
    m = _dense_model(make())
    m.fit(x, y, batch_size=40, epochs=2, verbose=0)
    m.save(tmp_path / "m.pynn")
    again = pynn.models.load_model(tmp_path / "m.pynn")
    assert type(again.optimizer) is type(m.optimizer) and again.optimizer.get_config() == m.optimizer.get_config()
    assert again.optimizer.iterations == m.optimizer.iterations == 6
    for model in (m, again):
        pynn.random.seed(5)
        model.fit(x, y, batch_size=40, epochs=1, verbose=0)
    for a, b in zip(m.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
