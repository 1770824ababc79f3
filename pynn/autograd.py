"""GradientTape-style automatic differentiation: the graph lives here, the math in C++.

Note [Tape recording]
An op (pynn.ops) runs its C++ forward, then asks record() whether any active
tape watches one of its tensor inputs. A tape watches what `tape.watch()` was
given, every trainable Variable it sees, and every result it recorded. Each
such tape appends a node (the op's backward function, its inputs, its output,
its saved attributes). tape.gradient() walks the nodes in reverse, calls each
backward with the gradient of the node's output, sums each input gradient back
to the input's shape (the backward of broadcasting, applied here once for all
ops) and accumulates it. Backward functions are written with pynn ops, so a
tape that is still recording while another computes gradients records that
computation too: nested tapes give higher-order gradients.
"""

import threading

from . import _core
Tensor = _core.Tensor  # (pynn.tensor adds its Python methods; importing it here would be circular)

__all__ = ["GradientTape", "no_grad", "Variable"]


class _State(threading.local):
    def __init__(self):
        self.tapes = []  # active tapes, innermost last
        self.paused = 0  # no_grad depth
        self.needs = ()  # during a backward call: which of its inputs take a gradient


_state = _State()


def is_recording():
    return bool(_state.tapes) and not _state.paused


def needs():
    """Inside a backward function: for each input, whether the tape takes its gradient."""
    return _state.needs


class _Node:
    __slots__ = ("backward", "inputs", "output", "attrs")

    def __init__(self, backward, inputs, output, attrs):
        self.backward = backward
        self.inputs = inputs
        self.output = output
        self.attrs = attrs


def record(backward, inputs, output, attrs=None):
    """Called by every differentiable op after its forward (only when is_recording())."""
    for tape in _state.tapes:
        if tape._watches_any(inputs):
            tape._nodes.append(_Node(backward, inputs, output, attrs))
            tape._watched[id(output)] = output


class GradientTape:
    """Records the ops run inside ``with GradientTape() as tape:`` for ``tape.gradient``.

    persistent: allow several gradient() calls (else one, like TensorFlow).
    watch_accessed_variables: watch every trainable Variable an op touches.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._nodes = []
        self._watched = {}  # id -> tensor (kept alive while the tape lives)
        self._used = False

    def __enter__(self):
        _state.tapes.append(self)
        return self

    def __exit__(self, *exc):
        _state.tapes.remove(self)
        return False

    def watch(self, tensor):
        """Track a tensor (or a list/tuple/dict of them) that is not a trainable Variable."""
        for t in _flatten(tensor):
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.watch: expected a pynn Tensor, got {type(t).__name__}")
            self._watched[id(t)] = t

    def watched_variables(self):
        return tuple(t for t in self._watched.values() if isinstance(t, Variable))

    def _watches_any(self, inputs):
        hit = False
        for x in inputs:
            if not isinstance(x, Tensor):
                continue
            if id(x) in self._watched:
                hit = True
            elif self.watch_accessed_variables and isinstance(x, Variable) and x.trainable:
                self._watched[id(x)] = x
                hit = True
        return hit

    def gradient(self, target, sources, output_gradients=None):
        """d(target)/d(sources), with the structure of `sources` (a tensor, list, tuple or dict).

        A non-scalar target is summed first (TensorFlow's rule) unless
        output_gradients gives its upstream gradient. Sources the target does
        not depend on get None.
        """
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients; "
                "use GradientTape(persistent=True) to call gradient() more than once"
            )
        self._used = True
        if not isinstance(target, Tensor):
            raise TypeError(f"GradientTape.gradient: target must be a pynn Tensor, got {type(target).__name__}")
        if output_gradients is None:
            seed = _core._full(target.shape, 1, target._dtype_code)
        else:
            seed = output_gradients if isinstance(output_gradients, Tensor) else _core._copy_from(output_gradients)
        grads = {id(target): seed}
        for node in reversed(self._nodes):
            g = grads.get(id(node.output))
            if g is None:
                continue
            # A backward may skip the gradients nobody takes (needs(): the dense layer's dx).
            _state.needs = tuple(id(x) in self._watched for x in node.inputs)
            input_grads = node.backward(g, node.inputs, node.output, node.attrs)
            for x, gx in zip(node.inputs, input_grads):
                # Only watched tensors (sources and recorded results) take gradients.
                if gx is None or id(x) not in self._watched:
                    continue
                if gx.shape != x.shape:
                    from .ops import sum_to

                    gx = sum_to(gx, x.shape)
                prev = grads.get(id(x))
                grads[id(x)] = gx if prev is None else prev + gx
        result = _unflatten(sources, [grads.get(id(s)) if id(s) in self._watched else None
                                      for s in _flatten(sources)])
        if not self.persistent:
            self._nodes = []
            self._watched = {}
        return result


class no_grad:
    """``with pynn.no_grad():`` runs ops without recording them on any tape."""

    def __enter__(self):
        _state.paused += 1
        return self

    def __exit__(self, *exc):
        _state.paused -= 1
        return False


def _flatten(x):
    if isinstance(x, dict):
        return [v for k in x for v in _flatten(x[k])]
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flatten(item)]
    return [x]


def _unflatten(structure, values):
    """values (a flat list, consumed in order) shaped like structure. A plain
    recursive function: a self-referencing closure would form a reference
    cycle holding every gradient until the cyclic GC ran."""
    return _build(structure, iter(values))


def _build(s, it):
    if isinstance(s, dict):
        return {k: _build(v, it) for k, v in s.items()}
    if isinstance(s, (list, tuple)):
        return type(s)([_build(v, it) for v in s])
    return next(it)


class Variable(Tensor):
    """A tensor that holds state (weights): a copy of `initial_value`, updated in place.

    Trainable Variables are watched by every GradientTape automatically.
    """

    def __init__(self, initial_value, trainable=True, name=None, dtype=None):
        from .tensor import _tensor

        super().__init__(_tensor(initial_value, dtype, "Variable"))
        self.trainable = bool(trainable)
        self.name = name

    def assign(self, value):
        """Overwrite the value in place (same shape and dtype); returns self."""
        try:
            with no_grad():
                self[...] = value
        except (ValueError, TypeError, OverflowError) as e:  # e.g. NaN into an integer variable
            from .utils import named_error

            raise named_error("Variable.assign", e) from e
        return self

    def assign_add(self, delta):
        with no_grad():
            _core.add(self, delta, self)
        return self

    def assign_sub(self, delta):
        with no_grad():
            _core.subtract(self, delta, self)
        return self

    def __repr__(self):
        body = Tensor.__repr__(self)
        name = f"name={self.name!r}, " if self.name else ""
        return f"<pynn.Variable {name}shape={self.shape} dtype={self.dtype.name}, value={body}>"
