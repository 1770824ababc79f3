"""The Layer contract and the symbolic tensors of the functional API.

Note [Layer contract]
As in Keras: a layer checks its arguments in __init__, creates its weights in
build(input_shape) on the first call (when the input shape is known), computes
in call(inputs, training=None), and round-trips through get_config() /
from_config(). Calling a layer on a KerasTensor (what Input() returns) does no
math: it builds the layer, computes the output shape and returns a new
KerasTensor that remembers the call (a Node), which is how Model(inputs,
outputs) finds the graph.

Note [Layer losses]
As in Keras 3, layer.losses lists the extra terms training adds to the compiled
loss (Model.compute_loss sums them in): the tensors add_loss() was given during
the current call, its own and its nested layers', then, computed afresh each
time `losses` is read, regularizer(weight) for every trainable weight that
add_weight() gave a regularizer. activity_regularizer (a constructor argument of
every layer) adds regularizer(output) / batch size for each output of each call.
The outermost layer call on a thread clears every nested layer's list first, so
the losses are those of the latest forward pass; the dummy call that infers an
output shape adds none. Everything is pynn ops on the call's tensors and the
Variables, so a GradientTape differentiates it and a captured step
(Note [Captured steps] in csrc/plan/plan.h) records it.
"""

import inspect
import numbers
import itertools
import threading

import numpy as np

from .. import constraints, initializers, ops, regularizers
from ..autograd import Variable, no_grad
from ..dtypes import as_dtype
from ..tensor import zeros
from ..utils import snake_case

__all__ = ["Layer", "KerasTensor", "Node", "register"]

_name_counts = {}  # base name -> itertools.count
_name_lock = threading.Lock()


def unique_name(base):
    """Keras' automatic names: dense, dense_1, dense_2, ... Safe under threads: the lock
    makes the look-up and the count one step, so two layers never get the same name."""
    with _name_lock:
        counter = _name_counts.setdefault(base, itertools.count())
        n = next(counter)
    return base if n == 0 else f"{base}_{n}"


def reset_names():
    """Restarts the automatic names (pynn.utils.clear_session)."""
    with _name_lock:
        _name_counts.clear()


def _is_nested_numbers(x):
    if isinstance(x, (list, tuple)):
        return all(_is_nested_numbers(v) for v in x)
    return isinstance(x, (int, float, np.number, np.bool_))


_REGISTRY = {}
_TAKES_TRAINING = {}


class _CallState(threading.local):
    def __init__(self):
        self.depth = 0  # layer calls in progress on this thread (Note [Layer losses])
        self.shape_only = 0  # inside compute_output_shape's dummy call: no losses


_call_state = _CallState()


def register(cls):
    """Makes a layer class loadable by its name (load_model); used as a decorator."""
    _REGISTRY[cls.__name__] = cls
    return cls


def check_real(op, name, value, allow_none=False):
    """`value` itself when it is a real number (not a bool), else TypeError naming the layer
    class `op` and the argument, so range checks never compare a string with a number."""
    if value is None and allow_none:
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {type(value).__name__} {value!r:.60}")
    return value


def shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class Node:
    """One call of a layer on symbolic tensors: the layer, its argument structure, its outputs."""

    def __init__(self, layer, args, outputs):
        self.layer = layer
        self.args = args  # a KerasTensor or a list of them, as the layer was called
        self.outputs = outputs

    @property
    def inputs(self):
        return list(self.args) if isinstance(self.args, (list, tuple)) else [self.args]


class KerasTensor:
    """A symbolic tensor of the functional API: a shape (None for the batch), a dtype and the
    call that produced it. It holds no data."""

    def __init__(self, shape, dtype="float32", name=None, node=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = as_dtype(dtype, "KerasTensor")
        self.name = name
        self.node = node

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={shape_str(self.shape)}, dtype={self.dtype.name}, name={self.name}>"

    def __array__(self, *args, **kwargs):
        raise TypeError("a KerasTensor is symbolic (it holds no data): it only describes a functional model's "
                        "graph; call the model on data instead")


def _is_symbolic(x):
    if isinstance(x, KerasTensor):
        return True
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(isinstance(v, KerasTensor) for v in x)


def _shapes_of(x):
    if isinstance(x, (list, tuple)):
        return [tuple(v.shape) for v in x]
    return tuple(x.shape)


class Layer:
    """The base of every layer (Note [Layer contract]).

    trainable: whether its weights are trained. name: unique by default
    (dense, dense_1, ...). dtype: the weights' and computation's float type,
    float32 by default. input_shape / input_dim / batch_size: only for the
    first layer of a Sequential model, which then builds at once.
    activity_regularizer: a regularizer (pynn.regularizers.get's identifiers) of each
    output, divided by the batch size, added to `losses` at every call (Note [Layer losses]).
    """

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None, input_dim=None,
                 batch_size=None, activity_regularizer=None, **kwargs):
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name must be a string, got {type(name).__name__}")
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.dtype = as_dtype(dtype or "float32", type(self).__name__)
        if not self.dtype.is_floating_point:
            raise TypeError(f"{type(self).__name__}: dtype must be float32 or float64, got {self.dtype.name}")
        self.trainable = bool(trainable)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._losses = []  # add_loss() values of the current call (Note [Layer losses])
        self.built = False
        self._weights = []  # in creation order
        self._layers = []  # sub-layers in assignment order (subclassed layers and models)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        self._input_shape_arg = None if input_shape is None else tuple(input_shape)
        self._batch_size_arg = batch_size
        self._inbound_nodes = []
        self.input_shape = None
        self.output_shape = None

    def __init_subclass__(cls, **kwargs):
        # A layer is built once build() returns, whoever called it (as Keras 3 does).
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            user_build = cls.__dict__["build"]

            def build(self, input_shape):
                user_build(self, input_shape)
                self.built = True

            build.__doc__ = user_build.__doc__
            cls.build = build

    def __setattr__(self, name, value):
        # Track sub-layers in assignment order, as Keras does, so their weights are ours.
        # Private attributes (a leading underscore) are the framework's own and not tracked.
        if name.startswith("_") or "_layers" not in self.__dict__:
            pass
        elif isinstance(value, Layer):
            if value not in self._layers:
                self._layers.append(value)
        elif isinstance(value, (list, tuple)):
            for v in value:
                if isinstance(v, Layer) and v not in self._layers:
                    self._layers.append(v)
        object.__setattr__(self, name, value)

    # ------------------------------------------------------------ weights
    def add_weight(self, shape, initializer="glorot_uniform", dtype=None, trainable=True, name=None,
                   regularizer=None, constraint=None):
        """A new Variable of `shape` filled by `initializer`, owned by this layer. `regularizer`
        (kept as variable.regularizer) adds regularizer(variable) to `losses`; `constraint`
        (variable.constraint) projects the variable after each optimizer update. Both take
        the identifiers of pynn.regularizers.get / pynn.constraints.get."""
        regularizer, constraint = regularizers.get(regularizer), constraints.get(constraint)
        shape = tuple(int(d) for d in shape)
        dt = as_dtype(dtype, f"{self.name}: add_weight") or self.dtype
        value = initializers.get("glorot_uniform" if initializer is None else initializer)(shape, dt)  # Keras' default
        if tuple(value.shape) != shape:
            raise ValueError(f"{self.name}: initializer returned shape {value.shape} for weight {name} of "
                             f"shape {shape}")
        v = Variable(value, trainable=trainable, name=name or f"variable_{len(self._weights)}", dtype=dt)
        v.path = f"{self.name}/{v.name}"
        v.regularizer, v.constraint = regularizer, constraint
        self._weights.append(v)
        return v

    @property
    def weights(self):
        """Own weights in creation order, then each sub-layer's."""
        return _unique(self._weights + [v for layer in self._layers for v in layer.weights])

    variables = weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return _unique([v for v in self._weights if v.trainable]
                       + [v for layer in self._layers for v in layer.trainable_weights])

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return _unique([v for v in self._weights if not v.trainable]
                       + [v for layer in self._layers for v in layer.non_trainable_weights])

    non_trainable_variables = non_trainable_weights

    @property
    def layers(self):
        return list(self._layers)

    # ------------------------------------------------------------ losses (Note [Layer losses])
    def add_loss(self, loss):
        """Adds a loss term (a tensor, or a list of them) to `losses`; call it from call()."""
        values = list(loss) if isinstance(loss, (list, tuple)) else [loss]
        for x in values:
            if not ops._is_tensor(x):
                raise ValueError(f"{self.name}.add_loss: can only be called from inside build() or call(), on a "
                                 f"tensor; got {type(x).__name__} {x!r:.60}")
        if not _call_state.shape_only:
            self.__dict__.setdefault("_losses", []).extend(values)

    def _nested_layers(self):
        """Every layer under this one (not itself), each once, depth first."""
        out, seen, stack = [], {id(self)}, list(reversed(self.__dict__.get("_layers", [])))
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            out.append(layer)
            stack.extend(reversed(layer.__dict__.get("_layers", [])))
        return out

    @property
    def losses(self):
        """The add_loss() values of the latest call (this layer's, then its nested layers'),
        then the penalty of every trainable weight that has a regularizer, computed now."""
        out = list(self.__dict__.get("_losses", []))
        for layer in self._nested_layers():
            out.extend(layer.__dict__.get("_losses", []))
        for v in self.trainable_weights:
            regularizer = getattr(v, "regularizer", None)
            if regularizer is not None:
                out.append(regularizer(v))
        return out

    def _clear_losses(self):
        for layer in [self] + self._nested_layers():
            layer.__dict__.get("_losses", []).clear()

    def _add_activity_losses(self, outputs):
        """activity_regularizer(output) / batch size for each output tensor (a 0-d output: not divided)."""
        for y in outputs if isinstance(outputs, (list, tuple)) else [outputs]:
            if not ops._is_tensor(y):
                continue
            loss = ops._as_tensor(self.activity_regularizer(y), f"{self.name}: activity_regularizer")
            if y.ndim > 0:  # the batch is a constant of a captured step's signature
                loss = ops.divide(loss, y.shape[0]) if y.shape[0] else zeros((), loss.dtype)
            self.add_loss(loss)

    def count_params(self):
        return int(sum(v.size for v in self.weights))

    def get_weights(self):
        """Copies of the weights as NumPy arrays, in the order of `weights`."""
        return [np.array(v.numpy(), copy=True) for v in self.weights]

    def set_weights(self, weights):
        """Overwrites the weights in place from arrays of the same shapes, in the order of `weights`."""
        mine = self.weights
        weights = list(weights)
        if len(weights) != len(mine):
            raise ValueError(f"{self.name}.set_weights: expected {len(mine)} arrays (the layer's weights), "
                             f"got {len(weights)}")
        for v, w in zip(mine, weights):
            w = np.asarray(w)
            if tuple(w.shape) != tuple(v.shape):
                raise ValueError(f"{self.name}.set_weights: weight {getattr(v, 'path', v.name)} has shape "
                                 f"{tuple(v.shape)}, got an array of shape {tuple(w.shape)}")
            v.assign(np.ascontiguousarray(w, dtype=v.dtype.dtype))

    # ------------------------------------------------------------ the contract
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=None):
        raise NotImplementedError(f"{type(self).__name__} must implement call(inputs, training=None)")

    def compute_output_shape(self, input_shape):
        """By default the shape of call() on a batch of one zero sample (with None kept for the batch)."""
        def concrete(s):
            return tuple(1 if d is None else d for d in s)

        if isinstance(input_shape, list):
            dummy = [zeros(concrete(s), self.dtype) for s in input_shape]
        else:
            dummy = zeros(concrete(input_shape), self.dtype)
        _call_state.shape_only += 1
        try:
            with no_grad():
                y = self.call(dummy, **self._call_kwargs(training=False))
        finally:
            _call_state.shape_only -= 1
        first = input_shape[0] if isinstance(input_shape, list) else input_shape
        batch = first[0] if len(first) else 1

        def symbolic(t):
            s = tuple(t.shape)
            return (batch,) + s[1:] if len(s) and batch is None else s

        return [symbolic(t) for t in y] if isinstance(y, (list, tuple)) else symbolic(y)

    def _call_kwargs(self, training):
        """{"training": training} when call() takes it (looked up once per class)."""
        cls = type(self)
        takes = _TAKES_TRAINING.get(cls)
        if takes is None:
            params = inspect.signature(cls.call).parameters
            takes = _TAKES_TRAINING[cls] = "training" in params or any(
                p.kind == p.VAR_KEYWORD for p in params.values())
        return {"training": training} if takes else {}

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(input_shape)
            self.built = True
            if self.input_shape is None:
                self.input_shape = input_shape

    def __call__(self, inputs, training=None, **kwargs):
        if _is_symbolic(inputs):
            shapes = _shapes_of(inputs)
            self._maybe_build(shapes)
            out_shape = self.compute_output_shape(shapes)
            node = Node(self, inputs, None)
            if isinstance(out_shape, list):
                outputs = [KerasTensor(s, self.dtype, f"{self.name}_{i}", node) for i, s in enumerate(out_shape)]
            else:
                outputs = KerasTensor(out_shape, self.dtype, self.name, node)
            node.outputs = outputs
            self._inbound_nodes.append(node)
            self.output_shape = out_shape
            return outputs
        inputs = self._convert(inputs)
        state = _call_state
        if state.depth == 0 and not state.shape_only:  # the outermost call (Note [Layer losses])
            self._clear_losses()
        state.depth += 1
        try:
            if not self.built:
                self._maybe_build(_shapes_of(inputs))
            outputs = self.call(inputs, **self._call_kwargs(training), **kwargs)
        finally:
            state.depth -= 1
        if getattr(self, "activity_regularizer", None) is not None and not state.shape_only:
            self._add_activity_losses(outputs)
        return outputs

    def _convert(self, x):
        if isinstance(x, (list, tuple)) and not _is_nested_numbers(x):
            return [self._convert(v) for v in x]  # several inputs
        # A nested list of numbers is one array-like input, converted as Keras does.
        x = ops._as_tensor(x, f"{self.name} ({type(self).__name__})")
        if x.dtype != self.dtype:
            x = x.astype(self.dtype)  # Keras' autocast: a layer computes in its own dtype (uint8 pixels too)
        return x

    # ------------------------------------------------------------ config
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}
        if getattr(self, "activity_regularizer", None) is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if self._input_shape_arg is not None:
            config["input_shape"] = list(self._input_shape_arg)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _unique(variables):
    seen, out = set(), []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


# ---------------------------------------------------------------- operators on symbolic tensors
#
# Note [Symbolic operators]
# As Keras 3's KerasTensor does, `x + y`, `2 * x`, `x / y`, `-x`, `abs(x)`, `x ** 2`, `x @ w`,
# the comparisons `<`, `<=`, `>`, `>=`, `!=` and basic slicing `x[:, :10]`, `x[..., 0]` on symbolic
# tensors record one call of a small layer, OpLayer, that holds the op's name and its constant
# operands (None where a symbolic operand goes). A functional model then runs, trains (captured
# too: the op is a pynn op on the step's tensors), summarizes, saves and loads it like any
# layer. Constants must be plain numbers or small nested lists of numbers (a list constant takes
# the dtype of a floating tensor operand, as Keras converts it); arrays and tensors are refused,
# since a config holds no array data. `==` keeps its identity meaning, as in Keras.

_BINARY_OPS = {  # op name -> (the ops function name, Keras' op class name)
    "add": ("add", "Add"), "subtract": ("subtract", "Subtract"), "multiply": ("multiply", "Multiply"),
    "true_divide": ("divide", "TrueDivide"), "power": ("power", "Power"), "matmul": ("matmul", "Matmul"),
    "less": ("less", "Less"), "less_equal": ("less_equal", "LessEqual"), "greater": ("greater", "Greater"),
    "greater_equal": ("greater_equal", "GreaterEqual"), "not_equal": ("not_equal", "NotEqual"),
}
_UNARY_OPS = {"negative": ("negative", "Negative"), "absolute": ("abs", "Absolute")}
_MAX_CONSTANT_ITEMS = 4096


def _constant(value, where):
    """A constant operand as a plain number or nested list of numbers, else ValueError/TypeError."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Number) and not isinstance(value, numbers.Real):
        raise TypeError(f"{where}: complex constants are not supported, got {value!r}")
    if isinstance(value, (numbers.Integral, np.integer)):
        return int(value)
    if isinstance(value, (numbers.Real, np.floating)):
        return float(value)
    if isinstance(value, (list, tuple)):
        if not _is_nested_numbers(value):
            raise TypeError(f"{where}: a constant list must hold only numbers, got {value!r:.80}")
        arr = np.asarray(value)
        if arr.dtype == object:
            raise ValueError(f"{where}: a constant list must be rectangular, got {value!r:.80}")
        if arr.size > _MAX_CONSTANT_ITEMS:
            raise ValueError(f"{where}: a constant list of {arr.size} numbers is too large for a model config "
                             f"(at most {_MAX_CONSTANT_ITEMS}); make it a layer weight instead")
        return arr.tolist()
    if isinstance(value, np.ndarray) or ops._is_tensor(value) or hasattr(value, "__array__"):
        raise ValueError(f"{where}: an array or tensor constant (shape {tuple(np.shape(value))}) cannot be stored in "
                         f"a model config; use a plain number or a small list, or make it a layer weight (or a "
                         f"pynn.Input)")
    raise TypeError(f"{where}: unsupported operand of type {type(value).__name__}")


def _encode_key(key, where):
    """A basic-indexing key as JSON data: ints, [start, stop, step] slices, "..." and null (newaxis)."""
    items = key if isinstance(key, tuple) else (key,)
    out = []
    for k in items:
        if isinstance(k, (bool, np.bool_)):
            raise TypeError(f"{where}: boolean indices are not supported on a symbolic tensor")
        if isinstance(k, (numbers.Integral, np.integer)):
            out.append(int(k))
        elif isinstance(k, slice):
            parts = []
            for p in (k.start, k.stop, k.step):
                if p is not None and (isinstance(p, (bool, np.bool_)) or not isinstance(p, (numbers.Integral,
                                                                                             np.integer))):
                    raise TypeError(f"{where}: slice bounds must be integers or None, got {p!r:.60}")
                parts.append(None if p is None else int(p))
            out.append({"slice": parts})
        elif k is Ellipsis:
            out.append("...")
        elif k is None:
            out.append(None)
        else:
            raise TypeError(f"{where}: only basic indexing (integers, slices, ..., None) is supported on a symbolic "
                            f"tensor, got an index of type {type(k).__name__}")
    return out


def _decode_key(items, where):
    if not isinstance(items, list):
        raise ValueError(f"{where}: key must be a list, got {type(items).__name__}")
    out = []
    for k in items:
        if k is None:
            out.append(None)
        elif k == "...":
            out.append(Ellipsis)
        elif type(k) is int:
            out.append(k)
        elif isinstance(k, dict) and set(k) == {"slice"} and isinstance(k["slice"], list) and len(k["slice"]) == 3 \
                and all(p is None or type(p) is int for p in k["slice"]):
            out.append(slice(*k["slice"]))
        else:
            raise ValueError(f"{where}: bad index entry {k!r:.60} in key")
    return tuple(out)


@register
class OpLayer(Layer):
    """One operator on symbolic tensors (Note [Symbolic operators]): op is a name of
    _BINARY_OPS, _UNARY_OPS or "get_item"; operands lists each operand in order, None for a
    symbolic tensor (taken from the call's inputs in turn) or a constant; key is get_item's index.
    Made by KerasTensor's operators; has no weights and does not cast its inputs."""

    def __init__(self, op, operands=None, key=None, **kwargs):
        where = f"OpLayer({op!r})"
        if op not in _BINARY_OPS and op not in _UNARY_OPS and op != "get_item":
            raise ValueError(f"OpLayer: unknown op {op!r}; known: {sorted(list(_BINARY_OPS) + list(_UNARY_OPS))} "
                             f"and 'get_item'")
        kwargs.setdefault("name", unique_name(op))
        super().__init__(**kwargs)
        arity = 2 if op in _BINARY_OPS else 1
        operands = [None] * arity if operands is None else list(operands)
        if len(operands) != arity or all(o is not None for o in operands):
            raise ValueError(f"{where}: operands must list {arity} operand(s), at least one of them None (a symbolic "
                             f"tensor), got {operands!r:.80}")
        self.op = op
        self.operands = [None if o is None else _constant(o, where) for o in operands]
        self.n_inputs = sum(o is None for o in self.operands)
        if op == "get_item":
            self.key = _encode_key(key, where) if not isinstance(key, list) else _encode_key(_decode_key(key, where),
                                                                                             where)
            self._key = _decode_key(self.key, where)
        else:
            if key is not None:
                raise ValueError(f"{where}: key is only for get_item")
            self.key = None
        self._constants = {}  # (operand index, dtype) -> Tensor, made once (a captured step's constant)

    @property
    def keras_class_name(self):
        """The Keras op class this stands for (summary's type column)."""
        if self.op == "get_item":
            return "GetItem"
        return (_BINARY_OPS.get(self.op) or _UNARY_OPS[self.op])[1]

    def _operand(self, i, tensors):
        c = self.operands[i]
        if not isinstance(c, list):
            return c
        dtype = next((t.dtype for t in tensors if t.dtype.is_floating_point), None)
        k = (i, None if dtype is None else dtype.name)
        if k not in self._constants:
            arr = np.asarray(c) if dtype is None else np.asarray(c, dtype=dtype.dtype)
            self._constants[k] = ops._as_tensor(arr, self.name)
        return self._constants[k]

    def call(self, inputs):
        tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        if len(tensors) != self.n_inputs:
            raise ValueError(f"{self.name} ({self.op}): expected {self.n_inputs} tensor input(s), got {len(tensors)}")
        if self.op == "get_item":
            return ops.getitem(tensors[0], self._key)
        it = iter(tensors)
        args = [next(it) if c is None else self._operand(i, tensors) for i, c in enumerate(self.operands)]
        fn = getattr(ops, (_BINARY_OPS.get(self.op) or _UNARY_OPS[self.op])[0])
        try:
            return fn(*args)
        except ValueError as e:
            shapes = [tuple(a.shape) if ops._is_tensor(a) else np.shape(a) for a in args]
            raise ValueError(f"{self.name} ({self.op}): operands of shapes {shapes}: {e}") from None

    def _convert(self, x):
        if isinstance(x, (list, tuple)):
            return [ops._as_tensor(v, self.name) for v in x]
        return ops._as_tensor(x, self.name)

    def __call__(self, inputs, training=None, **kwargs):
        if not _is_symbolic(inputs):
            return super().__call__(inputs, training=training, **kwargs)
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        # The output shape and dtype: the op on zeros with every unknown dim 2, then 3; a dim that
        # follows them is unknown (None), any other is the op's.
        results = []
        for fill in (2, 3):
            dummy = [zeros(tuple(fill if d is None else d for d in t.shape), t.dtype) for t in flat]
            _call_state.shape_only += 1
            try:
                with no_grad():
                    try:
                        y = self.call(dummy if isinstance(inputs, (list, tuple)) else dummy[0])
                    except (IndexError, ValueError, TypeError) as e:
                        shapes = [shape_str(t.shape) for t in flat]
                        raise type(e)(f"{self.name} ({self.op}) on symbolic tensor(s) of shape "
                                      f"{', '.join(shapes)}: {e}") from None
            finally:
                _call_state.shape_only -= 1
            results.append(y)
        a, b = (tuple(r.shape) for r in results)
        shape = tuple(None if da != db else da for da, db in zip(a, b))
        self.built = True
        self.input_shape = _shapes_of(inputs)
        node = Node(self, inputs, None)
        node.outputs = KerasTensor(shape, results[0].dtype.name, self.name, node)
        self._inbound_nodes.append(node)
        self.output_shape = shape
        return node.outputs

    def get_config(self):
        config = super().get_config()
        config.update({"op": self.op, "operands": self.operands})
        if self.key is not None:
            config["key"] = self.key
        return config


def _binary(op, reflected=False):
    def method(self, other):
        if isinstance(other, KerasTensor):
            return OpLayer(op)([other, self] if reflected else [self, other])
        operands = [other, None] if reflected else [None, other]
        return OpLayer(op, operands=operands)(self)

    method.__name__ = f"__{'r' if reflected else ''}{op}__"
    return method


for _op, _dunder in [("add", "add"), ("subtract", "sub"), ("multiply", "mul"), ("true_divide", "truediv"),
                     ("power", "pow"), ("matmul", "matmul")]:
    setattr(KerasTensor, f"__{_dunder}__", _binary(_op))
    setattr(KerasTensor, f"__r{_dunder}__", _binary(_op, reflected=True))
for _op, _dunder in [("less", "lt"), ("less_equal", "le"), ("greater", "gt"), ("greater_equal", "ge"),
                     ("not_equal", "ne")]:
    setattr(KerasTensor, f"__{_dunder}__", _binary(_op))
KerasTensor.__neg__ = lambda self: OpLayer("negative")(self)
KerasTensor.__abs__ = lambda self: OpLayer("absolute")(self)
KerasTensor.__pos__ = lambda self: self


def _getitem(self, key):
    if isinstance(key, list) or isinstance(key, tuple) and any(isinstance(k, list) for k in key):
        raise TypeError(f"{self.name}: only basic indexing (integers, slices, ..., None) is supported on a symbolic "
                        f"tensor, got a list index {key!r:.60}")
    return OpLayer("get_item", operands=[None], key=key)(self)


KerasTensor.__getitem__ = _getitem
KerasTensor.__array_ufunc__ = None  # np.float32(2) * x: NumPy hands the operator back to x


def _no_iter(self):
    raise TypeError("a KerasTensor is symbolic and cannot be iterated; index it (x[:, 0]) or use a layer")


KerasTensor.__iter__ = _no_iter
KerasTensor.__hash__ = object.__hash__  # __ne__ is element-wise; identity stays the hash, as in Keras
