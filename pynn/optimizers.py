"""Keras-style optimizers on pynn's fused in-place update kernels.

Each optimizer keeps its slot variables (momentum, velocity, ...) per weight
and applies one fused C++ pass per weight per step (Note [Fused optimizer
updates] in csrc/kernels/kernel_table.h). Names, defaults and update rules
are Keras 3's; each class's docstring states its rule.
"""

import math

from . import _core
from .autograd import Variable, no_grad
from .tensor import zeros_like

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "get"]

_R = _core._OptimRule


class Optimizer:
    """The shared machinery: building slots, clipping, weight decay, the step counter.

    clipvalue clips each gradient element to [-clipvalue, clipvalue]; clipnorm
    rescales each gradient to at most that L2 norm; global_clipnorm rescales
    all gradients together. weight_decay applies var -= lr * weight_decay * var
    before the update, as Keras 3 does.
    """

    _slot_count = 0

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None):
        if sum(x is not None for x in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("only one of clipnorm, clipvalue and global_clipnorm can be set")
        for label, value in (("learning_rate", learning_rate), ("clipnorm", clipnorm), ("clipvalue", clipvalue),
                             ("global_clipnorm", global_clipnorm), ("weight_decay", weight_decay)):
            if value is not None and (not isinstance(value, (int, float)) or value < 0):
                raise ValueError(f"{type(self).__name__}: {label} must be a non-negative number, got {value!r}")
        self.learning_rate = float(learning_rate)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._slots = {}  # id(variable) -> (variable, [slot tensors])
        self.built = False

    # ------------------------------------------------------------ Keras API
    def build(self, var_list):
        """Create the slot variables of every trainable variable (zeros, or the rule's initial value)."""
        for v in var_list:
            if id(v) not in self._slots:
                self._slots[id(v)] = (v, [self._initial_slot(v) for _ in range(self._slot_count)])
        self.built = True

    def _initial_slot(self, variable):
        return zeros_like(variable)

    def apply_gradients(self, grads_and_vars):
        grads_and_vars = list(grads_and_vars)
        return self.apply([g for g, _ in grads_and_vars], [v for _, v in grads_and_vars])

    def apply(self, grads, trainable_variables):
        """One step: for every (gradient, variable) pair whose gradient is not None."""
        pairs = [(g, v) for g, v in zip(grads, trainable_variables) if g is not None]
        if not pairs:
            return self.iterations
        for _, v in pairs:
            if not isinstance(v, Variable):
                raise TypeError(f"{type(self).__name__}: can only update pynn.Variable, got {type(v).__name__}")
        self.build([v for _, v in pairs])
        with no_grad():
            grads = self._clip([self._as_update(g, v) for g, v in pairs])
            self.iterations += 1
            for g, (_, v) in zip(grads, pairs):
                if self.weight_decay and not self._decay_in_kernel:
                    v.assign_sub(v * (self.learning_rate * self.weight_decay))
                self.update_step(g, v, self.learning_rate)
        return self.iterations

    def update_step(self, gradient, variable, learning_rate):
        """One fused in-place pass of the rule over the variable and its slots."""
        _core._optim_update(self._rule, [variable, gradient, *self._slots_of(variable)], self._scalars(learning_rate))

    _rule = None  # the fused kernel's rule (a _core._OptimRule)

    def _scalars(self, learning_rate):
        """The rule's scalars for this step (Note [Fused optimizer updates])."""
        raise NotImplementedError

    def _fusable(self):
        """Whether a step is exactly the fused update of every variable (no clipping, no weight
        decay outside the kernel, no overridden update_step): then the compiled training step
        (Note [Compiled dense stack]) may run it."""
        return (type(self).update_step is Optimizer.update_step and type(self)._rule is not None
                and self.clipvalue is None and self.clipnorm is None and self.global_clipnorm is None
                and (not self.weight_decay or self._decay_in_kernel))

    def _next_scalars(self):
        """Counts a step and returns its scalars, as apply() does before its updates."""
        self.iterations += 1
        return self._scalars(self.learning_rate)

    def get_config(self):
        return {"name": self.name, "learning_rate": self.learning_rate, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def variables(self):
        return [s for _, slots in self._slots.values() for s in slots]

    # ------------------------------------------------------------ helpers
    _decay_in_kernel = False

    @staticmethod
    def _as_update(g, v):
        if g.shape != v.shape:
            raise ValueError(f"optimizer: gradient of shape {g.shape} for a variable of shape {v.shape}")
        if g.dtype != v.dtype:
            g = g.astype(v.dtype)
        return g.contiguous()

    def _clip(self, grads):
        if self.clipvalue is not None:
            return [_core.clip(g, -self.clipvalue, self.clipvalue, None) for g in grads]
        if self.clipnorm is not None:
            out = []
            for g in grads:
                norm = math.sqrt(float(_core._reduce(_core._ReduceOp.sum, _core.square(g, None), None, False)))
                out.append(g * (self.clipnorm / norm) if norm > self.clipnorm else g)
            return out
        if self.global_clipnorm is not None:
            total = math.sqrt(sum(float(_core._reduce(_core._ReduceOp.sum, _core.square(g, None), None, False))
                                  for g in grads))
            if total > self.global_clipnorm:
                return [g * (self.global_clipnorm / total) for g in grads]
        return grads

    def _slots_of(self, variable):
        return self._slots[id(variable)][1]


class SGD(Optimizer):
    """Gradient descent with optional momentum (Keras 3 rule).

    momentum == 0: var -= lr * g. Otherwise m = momentum * m - lr * g, then
    var += m, or with nesterov var += momentum * m - lr * g.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self._slot_count = 1 if momentum else 0

    _rule = _R.sgd

    def _scalars(self, learning_rate):
        return [learning_rate, self.momentum, 1.0 if self.nesterov else 0.0]

    def get_config(self):
        return dict(super().get_config(), momentum=self.momentum, nesterov=self.nesterov)


class RMSprop(Optimizer):
    """RMSprop (Keras 3 rule): v = rho * v + (1 - rho) * g^2; step = lr * g / sqrt(v + epsilon);
    with momentum m = momentum * m + step and var -= m, else var -= step."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if centered:
            raise NotImplementedError("RMSprop(centered=True) is not implemented yet")
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self._slot_count = 2 if momentum else 1

    _rule = _R.rmsprop

    def _scalars(self, learning_rate):
        return [learning_rate, self.rho, self.momentum, self.epsilon]

    def get_config(self):
        return dict(super().get_config(), rho=self.rho, momentum=self.momentum, epsilon=self.epsilon)


class Adam(Optimizer):
    """Adam (Keras 3 rule, epsilon outside the square root, "epsilon hat"):
    m += (g - m) * (1 - beta_1); v += (g^2 - v) * (1 - beta_2);
    var -= alpha * m / (sqrt(v) + epsilon) with alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)."""

    _slot_count = 2
    _decay_in_kernel = True

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if amsgrad:
            raise NotImplementedError("Adam(amsgrad=True) is not implemented yet")
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    _rule = _R.adam

    def _scalars(self, learning_rate):
        t = self.iterations
        alpha = learning_rate * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        decay = learning_rate * self.weight_decay if self.weight_decay else 0.0
        return [alpha, self.beta_1, self.beta_2, self.epsilon, decay]

    def get_config(self):
        return dict(super().get_config(), beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras 3): var -= lr * weight_decay * var, then Adam's rule."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, weight_decay=weight_decay,
                         **kwargs)


class Adagrad(Optimizer):
    """Adagrad (Keras 3 rule): a += g^2; var -= lr * g / sqrt(a + epsilon); a starts at
    initial_accumulator_value."""

    _slot_count = 1

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value, self.epsilon = float(initial_accumulator_value), float(epsilon)

    def _initial_slot(self, variable):
        from .tensor import full

        return full(variable.shape, self.initial_accumulator_value, variable.dtype)

    _rule = _R.adagrad

    def _scalars(self, learning_rate):
        return [learning_rate, self.epsilon]

    def get_config(self):
        return dict(super().get_config(), initial_accumulator_value=self.initial_accumulator_value,
                    epsilon=self.epsilon)


_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "adagrad": Adagrad}


def get(identifier):
    """An optimizer from a name ("sgd", "rmsprop", "adam", "adamw", "adagrad"), a config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _BY_NAME:
            raise ValueError(f"unknown optimizer {identifier!r}; expected one of {sorted(_BY_NAME)}")
        return _BY_NAME[key]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return get(identifier["class_name"]).from_config(identifier.get("config", {}))
    raise ValueError(f"cannot interpret {identifier!r} as an optimizer")
