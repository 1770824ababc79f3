"""GradientTape, Variable and every op's gradient against central differences (float64)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import pynn
from oracle import assert_like_numpy, isa, shapes_st, threads  # noqa: F401  (fixtures)
from pynn.utils import GradcheckError, gradcheck

BINARY = {
    "add": pynn.add, "subtract": pynn.subtract, "multiply": pynn.multiply, "divide": pynn.divide,
    "maximum": pynn.maximum, "minimum": pynn.minimum,
}
UNARY = {
    "negative": pynn.negative, "abs": pynn.abs, "exp": pynn.exp, "square": pynn.square, "tanh": pynn.tanh,
    "sigmoid": pynn.sigmoid, "relu": pynn.relu,
    "log": lambda x: pynn.log(pynn.abs(x) + 0.5), "sqrt": lambda x: pynn.sqrt(pynn.abs(x) + 0.5),
}


def away_from_kinks(a):
    """Values at least 0.1 from 0 (abs, relu) and from each other (max, min)."""
    return np.sign(a) * (np.abs(a) + 0.1) + 0.01 * np.arange(a.size).reshape(a.shape)


@given(shapes=shapes_st(min_side=1, max_side=3, max_dims=3), name=st.sampled_from(sorted(BINARY)),
       seed=st.integers(0, 999))
def test_binary_gradients_with_broadcasting(shapes, name, seed):
    rng = np.random.default_rng(seed)
    a = away_from_kinks(rng.standard_normal(shapes.input_shapes[0]))
    b = away_from_kinks(rng.standard_normal(shapes.input_shapes[1])) + 0.05
    if name == "divide":
        b = np.abs(b) + 0.5
    assert gradcheck(BINARY[name], [a, b])


@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple), name=st.sampled_from(sorted(UNARY)),
       seed=st.integers(0, 999))
def test_unary_gradients(shape, name, seed):
    a = away_from_kinks(np.random.default_rng(seed).standard_normal(shape))
    assert gradcheck(UNARY[name], [a])


def test_power_where_clip_gradients():
    rng = np.random.default_rng(1)
    a = np.abs(rng.standard_normal((3, 4))) + 0.5
    b = rng.standard_normal((4,))
    assert gradcheck(pynn.power, [a, b])
    assert gradcheck(lambda x: x ** 3 + 2 ** x, [rng.standard_normal((2, 3))])
    c = rng.standard_normal((3, 4)) > 0
    assert gradcheck(lambda x, y: pynn.where(c, x, y), [rng.standard_normal((3, 4)), rng.standard_normal((4,))])
    assert gradcheck(lambda x: pynn.clip(x, -0.5, 0.7), [away_from_kinks(rng.standard_normal((3, 4)))])


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_gradients(name, axis, keepdims):
    a = np.random.default_rng(2).standard_normal((3, 4, 2))
    assert gradcheck(lambda x: getattr(pynn, name)(x, axis=axis, keepdims=keepdims) * 1.5, [a])


def test_max_ties_share_the_gradient():
    x = pynn.tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]))
    with pynn.GradientTape() as tape:
        tape.watch(x)
        y = pynn.max(x, axis=1)
    assert_like_numpy(tape.gradient(y, x), np.array([[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]]))
    with pynn.GradientTape() as tape:
        tape.watch(x)
        y = pynn.maximum(x, 2.0)
    assert_like_numpy(tape.gradient(y, x), np.array([[0, 1, 1], [0.5, 0.5, 0.5]]))


def test_view_gradients():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 4, 5))
    assert gradcheck(lambda x: x.reshape(12, 5)[::2] * 2, [a])
    assert gradcheck(lambda x: x.T[1, ::-1] ** 2, [a])
    assert gradcheck(lambda x: pynn.transpose(x, (1, 2, 0))[..., 0], [a])
    assert gradcheck(lambda x: pynn.expand_dims(x, 0) * pynn.ones((2, 1, 1, 1)), [a])
    assert gradcheck(lambda x: pynn.squeeze(x[:, :1], 1), [a])
    assert gradcheck(lambda x: pynn.broadcast_to(x[:, :1], (2, 3, 4, 5)), [a])
    assert gradcheck(lambda x: x[1] * x[2], [a])  # fan-out of one input


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
                                   ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (2, 4, 5))])
def test_matmul_gradients(sa, sb):
    rng = np.random.default_rng(4)
    assert gradcheck(pynn.matmul, [rng.standard_normal(sa), rng.standard_normal(sb)])
    if len(sa) <= 2 and len(sb) <= 2:
        assert gradcheck(pynn.dot, [rng.standard_normal(sa), rng.standard_normal(sb)])


def test_transposed_matmul_gradients():
    rng = np.random.default_rng(5)
    assert gradcheck(lambda x, w: pynn.relu(x.T @ w[::-1]) + 0.1, [rng.standard_normal((4, 3)),
                                                                   rng.standard_normal((4, 2))])


def test_softmax_log_softmax():
    rng = np.random.default_rng(6)
    a = rng.standard_normal((3, 5)) * 10
    e = np.exp(a - a.max(axis=1, keepdims=True))
    ref = e / e.sum(axis=1, keepdims=True)
    assert_like_numpy(pynn.softmax(pynn.tensor(a), axis=1), ref)
    assert_like_numpy(pynn.log_softmax(pynn.tensor(a), axis=-1), np.log(ref))
    assert gradcheck(lambda x: pynn.softmax(x, axis=0) * pynn.arange(5, dtype="float64"), [a])
    assert gradcheck(lambda x: pynn.log_softmax(x) * pynn.arange(5, dtype="float64"), [a])
    big = pynn.tensor(np.array([[1000.0, 0.0, -1000.0]], dtype=np.float32))
    assert np.all(np.isfinite(np.asarray(pynn.log_softmax(big))))


def test_second_order_nested_tapes():
    t = pynn.Variable(3.0, dtype="float64")
    with pynn.GradientTape() as outer:
        with pynn.GradientTape() as inner:
            position = 4.9 * t ** 2
        speed = inner.gradient(position, t)
    acceleration = outer.gradient(speed, t)
    assert float(speed) == pytest.approx(29.4)
    assert float(acceleration) == pytest.approx(9.8)


def test_tape_rules():
    x = pynn.tensor(np.array([1.0, 2.0, 3.0]))
    w = pynn.Variable(np.array([0.5, -1.0, 2.0]))
    frozen = pynn.Variable(np.ones(3), trainable=False)
    with pynn.GradientTape() as tape:
        y = w * x * frozen  # non-scalar target: summed
    g = tape.gradient(y, {"w": w, "x": x, "frozen": frozen, "pair": (w, [x])})
    assert_like_numpy(g["w"], np.array([1.0, 2.0, 3.0]))
    assert g["x"] is None and g["frozen"] is None and g["pair"][1][0] is None
    with pytest.raises(RuntimeError, match="non-persistent GradientTape"):
        tape.gradient(y, w)
    with pynn.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = pynn.sum(x * x) + pynn.sum(x)  # x used twice: gradients accumulate
    assert_like_numpy(tape.gradient(y, x), 2 * np.array([1.0, 2.0, 3.0]) + 1)
    assert_like_numpy(tape.gradient(y, x), 2 * np.array([1.0, 2.0, 3.0]) + 1)
    with pynn.GradientTape() as tape:
        with pynn.no_grad():
            y = pynn.sum(w * w)
    assert tape.gradient(y, w) is None
    with pytest.raises(TypeError, match="watch"):
        pynn.GradientTape().watch(3.0)


def test_output_gradients_and_unwatched():
    w = pynn.Variable(np.array([1.0, 2.0]))
    with pynn.GradientTape() as tape:
        y = w * 3
    assert_like_numpy(tape.gradient(y, w, output_gradients=pynn.tensor(np.array([1.0, -1.0]))),
                      np.array([3.0, -3.0]))
    with pynn.GradientTape(watch_accessed_variables=False) as tape:
        y = w * 3
    assert tape.gradient(y, w) is None


def test_variable_semantics():
    v = pynn.Variable([[1.0, 2.0], [3.0, 4.0]], name="kernel")
    assert isinstance(v, pynn.Tensor) and v.dtype == pynn.float32 and v.trainable and v.name == "kernel"
    ptr = v._data_ptr
    v.assign(np.zeros((2, 2)))
    v.assign_add(pynn.ones((2, 2)))
    v.assign_sub(0.5)
    assert v._data_ptr == ptr  # updated in place
    assert_like_numpy(v, np.full((2, 2), 0.5, np.float32))
    assert_like_numpy(v @ v + 1, np.full((2, 2), 1.5, np.float32))
    assert "Variable" in repr(v)
    with pytest.raises(ValueError, match="broadcast"):
        v.assign(np.zeros(3))


def test_gradcheck_catches_a_wrong_gradient():
    def wrong(x):
        with pynn.no_grad():
            frozen = x * 1.0  # hides one path from the tape
        return x * frozen

    with pytest.raises(GradcheckError, match="analytic"):
        gradcheck(wrong, [np.array([1.0, 2.0, 3.0])])


def test_float32_training_step_on_tape():
    # The TensorFlow tutorial's linear classifier, a few steps, must reduce the loss.
    rng = np.random.default_rng(7)
    cov = [[1, 0.5], [0.5, 1]]
    neg = rng.multivariate_normal([0, 3], cov, 500)
    pos = rng.multivariate_normal([3, 0], cov, 500)
    x = pynn.tensor(np.vstack([neg, pos]).astype(np.float32))
    y = pynn.tensor(np.vstack([np.zeros((500, 1)), np.ones((500, 1))]).astype(np.float32))
    w = pynn.Variable(rng.uniform(size=(2, 1)).astype(np.float32))
    b = pynn.Variable(np.zeros(1, np.float32))
    losses = []
    for _ in range(40):
        with pynn.GradientTape() as tape:
            loss = pynn.mean(pynn.square(x @ w + b - y))
        gw, gb = tape.gradient(loss, [w, b])
        w.assign_sub(gw * 0.1)
        b.assign_sub(gb * 0.1)
        losses.append(float(loss))
    accuracy = float(pynn.mean(pynn.equal(pynn.greater(x @ w + b, 0.5), pynn.greater(y, 0.5))))
    assert losses[-1] < losses[0] / 5
    assert accuracy > 0.99


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_softmax_cross_entropy_matches_composition(dtype):
    rng = np.random.default_rng(8)
    logits = (rng.standard_normal((300, 10)) * 4).astype(dtype)
    labels = rng.integers(0, 10, 300)
    onehot = np.eye(10, dtype=dtype)[labels]
    soft = (onehot * 0.9 + 0.01).astype(dtype)
    tol = 2e-6 if dtype == "float32" else 1e-12
    for target in (labels, labels.astype(np.int32), onehot, soft):
        x = pynn.Variable(logits)
        with pynn.GradientTape(persistent=True) as tape:
            fused = pynn.softmax_cross_entropy(x, target)
            t = pynn.tensor(target)
            if t.dtype.is_floating_point:
                composed = -pynn.sum(t * pynn.log_softmax(x)) / 300
            else:
                composed = -pynn.sum(pynn.tensor(np.eye(10, dtype=dtype)[target]) * pynn.log_softmax(x)) / 300
        assert fused.dtype == dtype and fused.shape == ()
        np.testing.assert_allclose(float(fused), float(composed), rtol=tol)
        np.testing.assert_allclose(np.asarray(tape.gradient(fused, x)), np.asarray(tape.gradient(composed, x)),
                                   rtol=10 * tol, atol=tol)


def test_fused_kernels_gradcheck_and_errors():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((6, 5)) * 3
    labels = rng.integers(0, 5, 6)
    assert gradcheck(lambda a: pynn.softmax_cross_entropy(a, labels) * 3, [x])
    assert gradcheck(lambda a: pynn.softmax_cross_entropy(a, pynn.softmax(pynn.tensor(x[::-1]))), [x])
    assert gradcheck(lambda a: pynn.softmax(a, axis=0)[1:] * 2, [x])
    t = (rng.random((6, 5)) > 0.5).astype(np.float64)
    assert gradcheck(lambda a: pynn.sigmoid_binary_cross_entropy(a, t), [x])
    p = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(float(pynn.sigmoid_binary_cross_entropy(pynn.tensor(x), t)),
                               np.mean(-t * np.log(p) - (1 - t) * np.log(1 - p)), rtol=1e-12)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 5\)"):
        pynn.softmax_cross_entropy(x, np.array([0, 1, 2, 3, 4, 5]))
    with pytest.raises(ValueError, match="do not match"):
        pynn.softmax_cross_entropy(x, np.zeros(5, np.int64))
    with pytest.raises(ValueError, match="2-D"):
        pynn.softmax_cross_entropy(pynn.zeros(5), np.zeros(5, np.int64))
    with pytest.raises(TypeError, match="float32 or float64"):
        pynn.softmax(pynn.zeros((2, 2), dtype="int32"))
    extreme = pynn.tensor(np.array([[1000.0, -1000.0, 0.0], [-np.inf, 0.0, 0.0]], np.float32))
    assert np.all(np.isfinite(np.asarray(pynn.softmax(extreme))))
    assert float(pynn.softmax_cross_entropy(extreme[:1], [1])) == 2000.0


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "softmax"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_dense_matches_composition(activation, dtype, threads):  # noqa: F811
    rng = np.random.default_rng(10)
    x = rng.standard_normal((128, 70)).astype(dtype)
    w = (rng.standard_normal((70, 33)) * 0.2).astype(dtype)
    b = rng.standard_normal(33).astype(dtype)
    up = rng.standard_normal((128, 33)).astype(dtype)
    composed_act = {None: lambda z: z, "relu": pynn.relu, "sigmoid": pynn.sigmoid, "tanh": pynn.tanh,
                    "softmax": pynn.softmax}[activation]
    X, W, B = pynn.Variable(x), pynn.Variable(w), pynn.Variable(b)
    with pynn.GradientTape(persistent=True) as tape:
        fused = pynn.dense(X, W, B, activation)
        composed = composed_act(X @ W + B)
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(np.asarray(fused), np.asarray(composed), rtol=tol, atol=tol)
    gf = tape.gradient(fused, [X, W, B], output_gradients=pynn.tensor(up))
    gc = tape.gradient(composed, [X, W, B], output_gradients=pynn.tensor(up))
    for a, c in zip(gf, gc):
        np.testing.assert_allclose(np.asarray(a), np.asarray(c), rtol=10 * tol, atol=10 * tol)


@pytest.mark.parametrize("shape", [(3, 5, 4), (128, 512, 10), (9, 700, 3), (128, 784, 512), (130, 130, 130),
                                   (600, 700, 1100), (1, 64, 33)],
                         ids=lambda s: "x".join(map(str, s)))
def test_dense_bias_and_activation_reach_every_block_of_the_gemm(shape, isa, threads):  # noqa: F811
    # The bias and activation run in the GEMM's epilogue (Note [GEMM epilogue]) on each finished
    # block: these shapes take the small, thin, unpacked-block and packed paths, transposed or not
    # (x with columns as rows below); a block missed or done twice would show.
    m, k, n = shape
    rng = np.random.default_rng(12)
    for x in (rng.standard_normal((m, k)), rng.standard_normal((k, m)).T):
        w = rng.standard_normal((k, n)) / np.sqrt(k)
        b = rng.standard_normal(n)
        got = np.asarray(pynn.dense(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), "relu"))
        np.testing.assert_allclose(got, np.maximum(x @ w + b, 0), rtol=2e-4, atol=2e-4)
        got = np.asarray(pynn.dense(x, w, b, "tanh"))
        np.testing.assert_allclose(got, np.tanh(x @ w + b), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_drops_zero_columns_of_its_input(dtype, threads):  # noqa: F811
    # Note [Zero input columns]: the result is x @ W + b up to rounding, with or without the columns.
    rng = np.random.default_rng(13)
    x = rng.standard_normal((96, 300))
    x[:, rng.permutation(300)[:120]] = 0
    w = rng.standard_normal((300, 200)) / np.sqrt(300)
    b = rng.standard_normal(200)
    got = np.asarray(pynn.dense(x.astype(dtype), w.astype(dtype), b.astype(dtype), "relu"))
    tol = 2e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, np.maximum(x @ w + b, 0), rtol=tol, atol=tol)
    w[np.flatnonzero(~x.any(axis=0))[5]] = np.nan  # a NaN weight row of a zero column reaches every output
    assert np.isnan(np.asarray(pynn.dense(x.astype(dtype), w.astype(dtype), b.astype(dtype)))).all()
    x[:] = 0  # every column zero: act(b)
    w = rng.standard_normal((300, 200)).astype(dtype)
    np.testing.assert_array_equal(np.asarray(pynn.dense(x.astype(dtype), w, b.astype(dtype), "relu")),
                                  np.broadcast_to(np.maximum(b, 0).astype(dtype), (96, 200)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", [None, "relu", ("gelu",)])
def test_dense_weight_gradient_drops_zero_columns(dtype, activation, threads):  # noqa: F811
    # Note [Zero input columns]: dW = x^T dz over the kept columns, the dropped rows exactly 0;
    # a non-finite dz keeps every column (0 * inf is NaN, as in the full product).
    rng = np.random.default_rng(17)
    x = rng.standard_normal((96, 300))
    x[:, rng.permutation(300)[:120]] = 0
    w = rng.standard_normal((300, 200)) / np.sqrt(300)
    b = rng.standard_normal(200)
    if isinstance(activation, tuple):
        activation = (pynn._core._Act.gelu, [])
    xt, wt, bt = (pynn.Variable(v.astype(dtype)) for v in (x, w, b))
    seed = rng.standard_normal((96, 200)).astype(dtype)
    with pynn.GradientTape() as tape:
        y = pynn.ops.dense(xt, wt, bt, activation)
    gx, gw, gb = tape.gradient(y, [xt, wt, bt], output_gradients=pynn.tensor(seed))
    with pynn.GradientTape() as tape:  # the same product without zero columns to drop: the full GEMM
        z = pynn.ops.matmul(xt, wt) + bt
        if isinstance(activation, tuple):
            y2 = pynn.ops.activation(activation[0], z)
        else:
            y2 = pynn.relu(z) if activation == "relu" else z
    gw_full = tape.gradient(y2, wt, output_gradients=pynn.tensor(seed))
    tol = 3e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(np.asarray(gw), np.asarray(gw_full), rtol=tol, atol=tol)
    dropped = ~x.any(axis=0)
    assert not np.asarray(gw)[dropped].any()
    seed[3, 7] = np.inf
    with pynn.GradientTape() as tape:
        y = pynn.ops.dense(xt, wt, bt, activation if activation is None or isinstance(activation, tuple) else None)
    gw_inf = np.asarray(tape.gradient(y, wt, output_gradients=pynn.tensor(seed)))
    assert np.isnan(gw_inf[dropped]).any()  # 0 * inf reached the dropped rows: the full product ran


def test_dense_gradcheck_skips_unneeded_dx_and_errors():
    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    assert gradcheck(lambda a, k, c: pynn.dense(a, k, c, "tanh"), [x, w, b])
    assert gradcheck(lambda a, k: pynn.dense(a, k, None, "relu") + 1, [x, w])
    kernel = pynn.Variable(w)
    with pynn.GradientTape() as tape:
        y = pynn.dense(pynn.tensor(x), kernel, None, "sigmoid")  # the input is not watched: no dx
    (gk,) = tape.gradient(y, [kernel])
    assert gk.shape == (3, 2)
    with pytest.raises(ValueError, match=r"dense: \(4,3\) @ \(2,3\): inner dimensions 3 and 2 differ"):
        pynn.dense(x, w.T)
    with pytest.raises(ValueError, match="bias of shape"):
        pynn.dense(x, w, np.zeros(3))
    with pytest.raises(ValueError, match="unknown activation"):
        pynn.dense(x, w, None, "gelu")
    with pytest.raises(TypeError, match="float dtype"):
        pynn.dense(x.astype(np.float32), w)


def test_a_training_step_leaves_no_cyclic_garbage():
    # Regression: a self-referencing closure in the tape kept every gradient
    # alive until the cyclic GC ran (1 GB of cached blocks in a timing loop).
    import gc

    w = pynn.Variable(np.ones((3, 2)))
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            with pynn.GradientTape() as tape:
                loss = pynn.sum(pynn.dense(pynn.ones((4, 3), dtype="float64"), w, None, "relu"))
            tape.gradient(loss, {"w": [w]})
        assert gc.collect() == 0
    finally:
        gc.enable()


@pytest.mark.parametrize("axes,sa,sb", [(1, (3, 4), (4, 5)), (2, (2, 3, 4), (3, 4, 5)), (0, (2, 3), (4,)),
                                        (([0, 2], [2, 0]), (3, 4, 5), (5, 2, 3))])
def test_tensordot_gradients(axes, sa, sb):
    rng = np.random.default_rng(12)
    assert gradcheck(lambda a, b: pynn.tensordot(a, b, axes), [rng.standard_normal(sa), rng.standard_normal(sb)])


def test_nd_dot_gradients():
    rng = np.random.default_rng(13)
    assert gradcheck(pynn.dot, [rng.standard_normal((2, 3, 4)), rng.standard_normal((5, 4, 2))])
    assert gradcheck(pynn.dot, [rng.standard_normal((2, 3, 4)), rng.standard_normal(4)])


def test_bce_from_logits_is_accurate_for_tiny_losses():
    x = np.array([40.0, -40.0, 0.5], dtype=np.float64)
    t = np.array([1.0, 0.0, 1.0])
    terms = np.asarray(pynn._core.bce_logits(x, t, None))
    np.testing.assert_allclose(terms, np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))), rtol=1e-14)


def second_order(loss_fn, w0):
    """d/dw of sum(d loss / dw): a gradient recorded by an outer tape."""
    w = pynn.Variable(w0)
    with pynn.GradientTape() as outer:
        with pynn.GradientTape() as inner:
            loss = loss_fn(w)
        g = inner.gradient(loss, w)
        s = pynn.sum(g * g)
    return np.asarray(outer.gradient(s, w))


@pytest.mark.parametrize("activation", [None, "sigmoid", "tanh", "softmax"])
def test_fused_ops_second_order_match_composition(activation):
    rng = np.random.default_rng(14)
    x = pynn.tensor(rng.standard_normal((5, 4)))
    w0 = rng.standard_normal((4, 3))
    labels = rng.integers(0, 3, 5)
    act = {None: lambda z: z, "sigmoid": pynn.sigmoid, "tanh": pynn.tanh, "softmax": pynn.softmax}[activation]
    fused = second_order(lambda w: pynn.softmax_cross_entropy(pynn.dense(x, w, None, activation), labels), w0)
    composed = second_order(lambda w: -pynn.sum(pynn.tensor(np.eye(3)[labels]) * pynn.log_softmax(act(x @ w))) / 5,
                            w0)
    np.testing.assert_allclose(fused, composed, rtol=1e-9, atol=1e-12)
    t = (rng.random((5, 3)) > 0.5).astype(np.float64)
    fused_bce = second_order(lambda w: pynn.sigmoid_binary_cross_entropy(x @ w, t), w0)
    composed_bce = second_order(lambda w: pynn.mean(pynn.relu(x @ w) - (x @ w) * t
                                                    + pynn.log(1 + pynn.exp(-pynn.abs(x @ w)))), w0)
    np.testing.assert_allclose(fused_bce, composed_bce, rtol=1e-9, atol=1e-12)
