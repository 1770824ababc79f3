"""Keras-style optimizers on pynn's fused in-place update kernels.

Each optimizer keeps its slot variables (momentum, velocity, ...) per weight
and applies one fused C++ pass per weight per step (Note [Fused optimizer
updates] in csrc/kernels/kernel_table.h). Names, defaults, options and update
rules are Keras 3's; each class's docstring states its rule.
"""

import math
import numbers
import re

import numpy as np

from .. import _capture, _core
from ..autograd import Variable, no_grad
from ..tensor import Tensor, full, tensor, zeros_like
from . import schedules
from .schedules import LearningRateSchedule

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adagrad", "Adamax", "Nadam", "Adadelta", "Lion", "Ftrl",
           "get", "serialize", "deserialize", "schedules"]

_R = _core._OptimRule


class _VariableList(list):
    """optimizer.variables: a list (Keras 3's property); calling it, as pynn's
    earlier method was called, returns the same list."""

    def __call__(self):
        return self


def _from_config(cls, config):
    return cls.from_config(config)


class Optimizer:
    """The shared machinery (Keras 3's BaseOptimizer): slots, clipping, weight decay,
    EMA, gradient accumulation, the learning rate and the step counter.

    learning_rate: a non-negative number (kept in a float64 Variable: read it with
    float(opt.learning_rate), set it with opt.learning_rate = x or
    opt.learning_rate.assign(x)), a schedules.LearningRateSchedule or any callable
    of no argument; a schedule is called with the number of apply() calls made
    before the current one.
    clipvalue clips each gradient element to [-clipvalue, clipvalue]; clipnorm
    rescales each gradient to at most that L2 norm; global_clipnorm rescales all
    gradients together (0 for any of them: no clipping, as Keras). weight_decay applies var -= lr * weight_decay * var
    before the update (except the variables exclude_from_weight_decay names).
    loss_scale_factor divides every gradient first.
    gradient_accumulation_steps = k: k apply() calls make one update, with the
    mean of their gradients; `iterations` counts updates, schedules see calls.
    use_ema: after each apply() the average a of each variable v becomes
    a = m a + (1 - m) v (m = ema_momentum, 0 at the first update); every
    ema_overwrite_frequency updates, and in finalize_variable_values(), v = a.
    A variable with a constraint (variable.constraint: a layer's kernel_constraint=...,
    pynn.constraints) is assigned constraint(variable) right after each apply(), as Keras.
    """

    _slot_count = 0
    _decay_in_kernel = False  # whether the rule's last scalar is lr * weight_decay
    _plain_scalars = False  # whether _scalars uses Python floats only (no NumPy errstate needed)
    _rule = None  # the fused kernel's rule (a _core._OptimRule)

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        kind = type(self).__name__
        kwargs.pop("decay", None)  # Keras 2's argument, ignored by Keras 3 too
        if kwargs:
            raise ValueError(f"{kind}: argument(s) not recognized: {kwargs}")
        if sum(x is not None for x in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{kind}: only one of clipnorm, clipvalue and global_clipnorm can be set")
        for label, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue), ("global_clipnorm", global_clipnorm),
                             ("weight_decay", weight_decay), ("loss_scale_factor", loss_scale_factor)):
            if value is not None and (not isinstance(value, numbers.Real) or isinstance(value, bool) or value < 0):
                raise ValueError(f"{kind}: {label} must be a non-negative number, got {value!r}")
        if gradient_accumulation_steps is not None and (
                not isinstance(gradient_accumulation_steps, int) or gradient_accumulation_steps < 2):
            raise ValueError(f"{kind}: gradient_accumulation_steps must be an integer >= 2, got "
                             f"{gradient_accumulation_steps!r}")
        if use_ema:
            if not 0 <= ema_momentum <= 1:
                raise ValueError(f"{kind}: ema_momentum must be in [0, 1], got {ema_momentum!r}")
            if ema_overwrite_frequency is not None and (not isinstance(ema_overwrite_frequency, int)
                                                        or ema_overwrite_frequency < 1):
                raise ValueError(f"{kind}: ema_overwrite_frequency must be an integer >= 1 or None, got "
                                 f"{ema_overwrite_frequency!r}")
        if name is None:
            from ..layers.base import unique_name
            from ..utils import snake_case

            name = unique_name(snake_case(kind))
        self.name = name
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = bool(use_ema)
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._iterations = Variable(0, trainable=False, name="iteration", dtype="int64")
        self._count = self._iterations.numpy().reshape(1)  # a view of the counter: cheap reads and increments
        self._learning_rate = None
        self.learning_rate = learning_rate
        self._slots = {}  # id(variable) -> (variable, [slot tensors])
        self._ema = {}  # id(variable) -> its moving average
        self._accumulators = {}  # id(variable) -> its gradient sum
        self._trainable_variables = []
        self._exclude_ids, self._exclude_pattern = set(), None
        self.built = False

    # ------------------------------------------------------------ learning rate and steps
    @property
    def learning_rate(self):
        """The Variable holding the rate, or the schedule's (or callable's) current value as a float."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return float(lr(int(self._count[0])))
        if isinstance(lr, Variable):
            return lr
        return float(lr())

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, LearningRateSchedule) or callable(value):
            self._learning_rate = value
            return
        if isinstance(self._learning_rate, LearningRateSchedule):
            raise TypeError(f"{type(self).__name__}: this optimizer was created with a LearningRateSchedule as its "
                            "learning_rate, so its learning rate cannot be set")
        try:
            rate = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{type(self).__name__}: learning_rate must be a non-negative number, a "
                             f"LearningRateSchedule or a callable, got {value!r}") from None
        if isinstance(value, bool) or not rate >= 0:
            raise ValueError(f"{type(self).__name__}: learning_rate must be a non-negative number, got {value!r}")
        if isinstance(self._learning_rate, Variable):
            self._learning_rate.assign(rate)
        else:
            self._learning_rate = Variable(rate, trainable=False, name="learning_rate", dtype="float64")
            self._rate = self._learning_rate.numpy()  # a NumPy view, read at every step

    def _current_learning_rate(self):
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            return float(lr(int(self._count[0])))
        return float(self._rate) if isinstance(lr, Variable) else float(lr())

    @property
    def iterations(self):
        """Updates made so far (apply() calls, divided by gradient_accumulation_steps)."""
        n = int(self._count[0])
        return n // self.gradient_accumulation_steps if self.gradient_accumulation_steps else n

    @iterations.setter
    def iterations(self, value):
        self._iterations.assign(int(value) * (self.gradient_accumulation_steps or 1))

    # ------------------------------------------------------------ Keras API
    def build(self, var_list):
        """Create the slot variables of every trainable variable (zeros, or the rule's initial value),
        and the EMA averages and gradient accumulators that the options ask for."""
        for v in var_list:
            if id(v) in self._slots:
                continue
            self._trainable_variables.append(v)
            if self.use_ema:
                self._ema[id(v)] = Variable(zeros_like(v), trainable=False, name="average")
            if self.gradient_accumulation_steps:
                self._accumulators[id(v)] = Variable(zeros_like(v), trainable=False, name="gradient_accumulator")
            self._slots[id(v)] = (v, [self._initial_slot(v, k) for k in range(self._slot_count)])
        self.built = True

    def _initial_slot(self, variable, index):
        return zeros_like(variable)

    @property
    def variables(self):
        """Keras 3's order: the step counter, the learning rate (unless a schedule or callable), the
        EMA averages, the gradient accumulators, then each variable's slots."""
        out = [self._iterations]
        if isinstance(self._learning_rate, Variable):
            out.append(self._learning_rate)
        out += [self._ema[id(v)] for v in self._trainable_variables if id(v) in self._ema]
        out += [self._accumulators[id(v)] for v in self._trainable_variables if id(v) in self._accumulators]
        out += [s for v in self._trainable_variables for s in self._slots[id(v)][1]]
        return _VariableList(out)

    @property
    def _model_variables_moving_average(self):
        return [self._ema[id(v)] for v in self._trainable_variables]

    @property
    def _accumulated_gradients(self):
        return [self._accumulators[id(v)] for v in self._trainable_variables]

    def set_weights(self, weights):
        """Overwrite optimizer.variables with `weights` (same order and shapes)."""
        if not self.built:
            raise ValueError(f"{type(self).__name__}.set_weights: the optimizer is not built yet; call "
                             "optimizer.build(trainable_variables) first")
        variables = self.variables
        if len(weights) != len(variables):
            raise ValueError(f"{type(self).__name__}.set_weights: expected {len(variables)} arrays, got "
                             f"{len(weights)}")
        for v, w in zip(variables, weights):
            if tuple(w.shape) != tuple(v.shape):
                raise ValueError(f"{type(self).__name__}.set_weights: an array of shape {tuple(w.shape)} for a "
                                 f"variable of shape {tuple(v.shape)}")
        with no_grad():
            for v, w in zip(variables, weights):
                v[...] = w

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Leave out of weight decay the variables in var_list, and those whose name contains any
        string of var_names (as a regular expression)."""
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        return not (self._exclude_pattern is not None
                    and self._exclude_pattern.search(getattr(variable, "name", None) or "") is not None)

    def apply_gradients(self, grads_and_vars):
        op = f"{type(self).__name__}.apply_gradients"
        try:
            pairs = list(grads_and_vars)
        except TypeError:
            raise TypeError(f"{op}: expected an iterable of (gradient, variable) pairs, got "
                            f"{type(grads_and_vars).__name__}") from None
        grads, variables = [], []
        for pair in pairs:
            try:
                g, v = pair
            except (TypeError, ValueError):
                raise TypeError(f"{op}: each item must be a (gradient, variable) pair, got "
                                f"{type(pair).__name__}") from None
            grads.append(g)
            variables.append(v)
        return self.apply(grads, variables)

    def apply(self, grads, trainable_variables=None):
        """One step: for every (gradient, variable) pair whose gradient is not None. Without
        trainable_variables, the variables the optimizer was built with."""
        grads = list(grads)
        if trainable_variables is None:
            if not self.built:
                raise ValueError(f"{type(self).__name__}.apply: without trainable_variables the optimizer must "
                                 "be built first (optimizer.build(trainable_variables))")
            trainable_variables = self._trainable_variables
            if len(grads) != len(trainable_variables):
                raise ValueError(f"{type(self).__name__}.apply: {len(grads)} gradients for the "
                                 f"{len(trainable_variables)} variables the optimizer was built with")
        pairs = [(g, v) for g, v in zip(grads, trainable_variables) if g is not None]
        if not pairs:
            return self.iterations
        for _, v in pairs:
            if not isinstance(v, Variable):
                raise TypeError(f"{type(self).__name__}: can only update pynn.Variable, got {type(v).__name__}")
            if not v.writeable:  # refused before any variable changes (Note [Writeable flag])
                raise ValueError(f"{type(self).__name__}: assignment destination is read-only "
                                 f"(variable {getattr(v, 'name', None)!r})")
        self.build([v for _, v in pairs])
        variables = [v for _, v in pairs]
        if _capture.capturing():  # options decided in Python per step (Note [Captured steps])
            for option in ("gradient_accumulation_steps", "clipnorm", "global_clipnorm"):
                if getattr(self, option):
                    _capture.refuse(f"{type(self).__name__}({option}=...) decides in Python at every step")
        with no_grad():
            grads = [self._as_update(g, v) for g, v in pairs]
            if self.loss_scale_factor is not None:
                grads = [g / self.loss_scale_factor for g in grads]
            lr = self._current_learning_rate()
            steps = self.gradient_accumulation_steps
            if steps:
                sums = [self._accumulators[id(v)] for v in variables]
                if (int(self._count[0]) + 1) % steps == 0:
                    self._update([(g + s) / steps for g, s in zip(grads, sums)], variables, lr)
                    for s in sums:
                        s.assign(zeros_like(s))
                else:
                    for g, s in zip(grads, sums):
                        s.assign_add(g)
            else:
                self._update(grads, variables, lr)
            if self.use_ema:
                self._update_moving_averages()
            for v in variables:  # as Keras: each updated variable's constraint (pynn.constraints), after the update
                constraint = getattr(v, "constraint", None)
                if constraint is not None:
                    v.assign(constraint(v))
            _core.add(self._iterations, 1, self._iterations)  # a kernel call, so a captured step counts too
        return self.iterations

    def _update(self, grads, variables, lr):
        """Clipping, weight decay and the rule's update of every variable."""
        grads = self._clip(grads)
        if type(self).update_step is not Optimizer.update_step:
            _capture.refuse(f"{type(self).__name__}.update_step receives the learning rate as a Python number")
        if self.weight_decay and not self._decay_in_kernel:
            for v in variables:
                if self._use_weight_decay(v):
                    # lr * weight_decay in v's dtype, as the Python number was: a host input.
                    factor = _capture.host_input(lambda: self._current_learning_rate() * self.weight_decay,
                                                 v.dtype.dtype)
                    v.assign_sub(v * factor)
        if type(self).update_step is Optimizer.update_step and self._rule is not None:
            self._fused_updates(grads, variables)
            return
        for g, v in zip(grads, variables):
            self.update_step(g, v, lr)

    def _fused_updates(self, grads, variables):
        """update_step for every variable, the scalars computed once: a host input of the step,
        recomputed before each replay of a captured one (Note [Captured steps])."""
        def scalars():
            return self._ieee_scalars(self._current_learning_rate(), self.iterations + 1)

        h = _capture.host_input(scalars)
        h_no_decay = None
        for g, v in zip(grads, variables):
            hv = h
            if self._decay_in_kernel and self.weight_decay and not self._use_weight_decay(v):
                if h_no_decay is None:
                    h_no_decay = _capture.host_input(lambda: scalars()[:-1] + [0.0])
                hv = h_no_decay
            _core._optim_update(self._rule, [v, g, *self._slots_of(v)], hv)

    def _update_moving_averages(self):
        t = self.iterations  # before this call is counted, as Keras
        if self.ema_overwrite_frequency:
            _capture.refuse(f"{type(self).__name__}(ema_overwrite_frequency=...) decides in Python at every step")

        def momentum():
            return self.ema_momentum if self.iterations != 0 else 0.0

        for v in self._trainable_variables:
            average = self._ema[id(v)]
            # The momentum and its complement as Python computes them, in v's dtype: host inputs.
            keep = _capture.host_input(momentum, v.dtype.dtype)
            take = _capture.host_input(lambda: 1 - momentum(), v.dtype.dtype)
            average.assign(average * keep + v * take)
        if self.ema_overwrite_frequency and (t + 1) % self.ema_overwrite_frequency == 0:
            self._overwrite_with_averages(self._trainable_variables)

    def _overwrite_with_averages(self, var_list):
        for v in var_list:
            if id(v) in self._ema:
                v.assign(self._ema[id(v)])

    def finalize_variable_values(self, var_list):
        """With use_ema, set each variable to its moving average (fit() calls this at its end)."""
        if self.use_ema:
            with no_grad():
                self._overwrite_with_averages(var_list)

    def update_step(self, gradient, variable, learning_rate):
        """One fused in-place pass of the rule over the variable and its slots."""
        h = self._ieee_scalars(float(learning_rate), self.iterations + 1)
        if self._decay_in_kernel and self.weight_decay and not self._use_weight_decay(variable):
            h[-1] = 0.0
        _core._optim_update(self._rule, [variable, gradient, *self._slots_of(variable)], h)

    def _scalars(self, learning_rate, t):
        """The rule's scalars for update number t (1-based) (Note [Fused optimizer updates])."""
        raise NotImplementedError

    def _ieee_scalars(self, learning_rate, t):
        """_scalars as Python floats, with float64 arithmetic: a degenerate hyperparameter
        (Adam's beta_1 = 1: a zero bias correction) gives inf or NaN, as in Keras' tensor
        math, not ZeroDivisionError."""
        if self._plain_scalars:  # Python float products only: nothing can raise or warn
            return [float(x) for x in self._scalars(learning_rate, t)]
        with np.errstate(all="ignore"):
            return [float(x) for x in self._scalars(learning_rate, t)]

    def _decay(self, learning_rate):
        return learning_rate * self.weight_decay if self.weight_decay else 0.0

    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif isinstance(lr, Variable):
            lr = float(lr)
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency, "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __reduce__(self):
        # Pickles the configuration (as Keras' test of pickling checks), not the slots.
        return _from_config, (type(self), self.get_config())

    def scale_loss(self, loss):
        """loss * loss_scale_factor when one is set."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    # ------------------------------------------------------------ helpers
    @staticmethod
    def _as_update(g, v):
        if not isinstance(g, Tensor):
            g = tensor(g, v.dtype)  # NumPy arrays and lists, converted as Keras does
        if g.shape != v.shape:
            raise ValueError(f"optimizer: gradient of shape {g.shape} for a variable of shape {v.shape}")
        if g.dtype != v.dtype:
            g = g.astype(v.dtype)
        return g.contiguous()

    def _clip(self, grads):
        if self.clipvalue:  # 0 means no clipping, as in Keras
            return [_core.clip(g, -self.clipvalue, self.clipvalue, None) for g in grads]
        if self.clipnorm:
            out = []
            for g in grads:
                norm = math.sqrt(float(_core._reduce(_core._ReduceOp.sum, _core.square(g, None), None, False)))
                out.append(g * (self.clipnorm / norm) if norm > self.clipnorm else g)
            return out
        if self.global_clipnorm:
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

    _plain_scalars = True

    def _scalars(self, learning_rate, t):
        return [learning_rate, self.momentum, 1.0 if self.nesterov else 0.0]

    def get_config(self):
        return dict(super().get_config(), momentum=self.momentum, nesterov=self.nesterov)


class RMSprop(Optimizer):
    """RMSprop (Keras 3 rule): v = rho * v + (1 - rho) * g^2; step = lr * g / sqrt(v + epsilon);
    with momentum m = momentum * m + step and var -= m, else var -= step.

    centered=True also keeps the mean gradient a = rho * a + (1 - rho) * g and divides by
    sqrt(v - a^2 + epsilon) instead.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)
        self._slot_count = (2 if momentum else 1) + (1 if centered else 0)
        self._rule = _R.rmsprop_centered if centered else _R.rmsprop

    _plain_scalars = True

    def _scalars(self, learning_rate, t):
        return [learning_rate, self.rho, self.momentum, self.epsilon]

    def get_config(self):
        return dict(super().get_config(), rho=self.rho, momentum=self.momentum, epsilon=self.epsilon,
                    centered=self.centered)


class Adam(Optimizer):
    """Adam (Keras 3 rule, epsilon outside the square root, "epsilon hat"):
    m += (g - m) * (1 - beta_1); v += (g^2 - v) * (1 - beta_2);
    var -= alpha * m / (sqrt(v) + epsilon) with alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t).

    amsgrad=True keeps v_hat = max(v_hat, v) and divides by sqrt(v_hat) + epsilon instead.
    """

    _decay_in_kernel = True

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.amsgrad = bool(amsgrad)
        self._slot_count = 3 if amsgrad else 2
        self._rule = _R.adam_amsgrad if amsgrad else _R.adam

    def _scalars(self, learning_rate, t):
        b1, b2 = np.float64(self.beta_1), np.float64(self.beta_2)
        alpha = learning_rate * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        return [alpha, self.beta_1, self.beta_2, self.epsilon, self._decay(learning_rate)]

    def get_config(self):
        return dict(super().get_config(), beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                    amsgrad=self.amsgrad)


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras 3): var -= lr * weight_decay * var, then Adam's rule."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                         weight_decay=weight_decay, **kwargs)


class Adagrad(Optimizer):
    """Adagrad (Keras 3 rule): a += g^2; var -= lr * g / sqrt(a + epsilon); a starts at
    initial_accumulator_value."""

    _slot_count = 1

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not initial_accumulator_value >= 0.0:  # as Keras 2's Adagrad; also refuses NaN
            raise ValueError("Adagrad: `initial_accumulator_value` must be non-negative. Received: "
                             f"initial_accumulator_value={initial_accumulator_value}.")
        self.initial_accumulator_value, self.epsilon = float(initial_accumulator_value), float(epsilon)

    def _initial_slot(self, variable, index):
        try:
            return full(variable.shape, self.initial_accumulator_value, variable.dtype)
        except (OverflowError, ValueError) as e:  # e.g. a value past a uint8 variable's range
            raise type(e)(f"Adagrad: cannot make the accumulator of a {variable.dtype.name} variable: {e}") from e

    _rule = _R.adagrad

    _plain_scalars = True

    def _scalars(self, learning_rate, t):
        return [learning_rate, self.epsilon]

    def get_config(self):
        return dict(super().get_config(), initial_accumulator_value=self.initial_accumulator_value,
                    epsilon=self.epsilon)


class Adamax(Optimizer):
    """Adamax, Adam on the infinity norm (Keras 3 rule): m += (g - m) * (1 - beta_1);
    u = max(beta_2 * u, |g|); var -= lr * m / ((1 - beta_1^t) * (u + epsilon))."""

    _slot_count = 2
    _decay_in_kernel = True
    _rule = _R.adamax

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _scalars(self, learning_rate, t):
        return [learning_rate, self.beta_1, self.beta_2, self.epsilon, 1 - np.float64(self.beta_1) ** t,
                self._decay(learning_rate)]

    def get_config(self):
        return dict(super().get_config(), beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)


class Nadam(Optimizer):
    """Nadam, Adam with Nesterov momentum (Keras 3 rule). With u_s = beta_1 * (1 - 0.96^s / 2)
    and P_t = u_1 * ... * u_t at update t:
    m += (g - m) * (1 - beta_1); v += (g^2 - v) * (1 - beta_2);
    m_hat = u_{t+1} * m / (1 - P_{t+1}) + (1 - u_t) * g / (1 - P_t); v_hat = v / (1 - beta_2^t);
    var -= lr * m_hat / (sqrt(v_hat) + epsilon).
    """

    _slot_count = 2
    _decay_in_kernel = True
    _rule = _R.nadam

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self._products = (0, np.float64(1.0))  # (t, P_t), extended one update at a time

    def _u(self, s):
        return np.float64(self.beta_1) * (1.0 - 0.5 * 0.96 ** s)

    def _product(self, t):
        done, p = self._products
        if done > t:
            done, p = 0, np.float64(1.0)
        for s in range(done + 1, t + 1):
            p *= self._u(s)
        self._products = (t, p)
        return p

    def _scalars(self, learning_rate, t):
        p_t = self._product(t)
        u_t, u_next = self._u(t), self._u(t + 1)
        return [learning_rate, self.beta_1, self.beta_2, self.epsilon, u_next / (1 - p_t * u_next),
                (1 - u_t) / (1 - p_t), 1 - np.float64(self.beta_2) ** t, self._decay(learning_rate)]

    def get_config(self):
        return dict(super().get_config(), beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)


class Adadelta(Optimizer):
    """Adadelta (Keras 3 rule): a = rho * a + (1 - rho) * g^2;
    d = -sqrt(b + epsilon) * g / sqrt(a + epsilon); b = rho * b + (1 - rho) * d^2; var += lr * d."""

    _slot_count = 2
    _decay_in_kernel = True
    _rule = _R.adadelta

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.epsilon = float(rho), float(epsilon)

    _plain_scalars = True

    def _scalars(self, learning_rate, t):
        return [learning_rate, self.rho, self.epsilon, self._decay(learning_rate)]

    def get_config(self):
        return dict(super().get_config(), rho=self.rho, epsilon=self.epsilon)


class Lion(Optimizer):
    """Lion (Keras 3 rule): var -= lr * sign(beta_1 * m + (1 - beta_1) * g);
    m = beta_2 * m + (1 - beta_2) * g."""

    _slot_count = 1
    _decay_in_kernel = True
    _rule = _R.lion

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not 0 < beta_1 <= 1:
            raise ValueError("Lion: argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                             f"degenerates to SignSGD. Received: beta_1={beta_1}.")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)

    _plain_scalars = True

    def _scalars(self, learning_rate, t):
        return [learning_rate, self.beta_1, self.beta_2, self._decay(learning_rate)]

    def get_config(self):
        return dict(super().get_config(), beta_1=self.beta_1, beta_2=self.beta_2)


class Ftrl(Optimizer):
    """FTRL-Proximal (Keras 3 rule), with p = -learning_rate_power, l2' = l2 + beta / (2 lr):
    n' = n + g^2; z += g + 2 * l2_shrinkage * var - (n'^p - n^p) / lr * var;
    var = (clip(z, -l1, l1) - z) / (n'^p / lr + 2 * l2'); n = n'; n starts at
    initial_accumulator_value, z at 0."""

    _slot_count = 2
    _decay_in_kernel = True
    _rule = _R.ftrl

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, **kwargs):
        super().__init__(learning_rate, **kwargs)
        for label, value in (("initial_accumulator_value", initial_accumulator_value),
                             ("l1_regularization_strength", l1_regularization_strength),
                             ("l2_regularization_strength", l2_regularization_strength),
                             ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength)):
            if value < 0.0:
                raise ValueError(f"Ftrl: `{label}` needs to be positive or zero. Received: {label}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError("Ftrl: `learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(l2_shrinkage_regularization_strength)
        self.beta = float(beta)

    def _initial_slot(self, variable, index):
        if index == 0:
            return full(variable.shape, self.initial_accumulator_value, variable.dtype)
        return zeros_like(variable)

    def _scalars(self, learning_rate, t):
        l2 = self.l2_regularization_strength
        if self.beta:
            l2 += self.beta / (2.0 * learning_rate) if learning_rate else math.inf
        return [learning_rate, self.learning_rate_power, self.l1_regularization_strength, l2,
                self.l2_shrinkage_regularization_strength, self._decay(learning_rate)]

    def get_config(self):
        return dict(super().get_config(), learning_rate_power=self.learning_rate_power,
                    initial_accumulator_value=self.initial_accumulator_value,
                    l1_regularization_strength=self.l1_regularization_strength,
                    l2_regularization_strength=self.l2_regularization_strength,
                    l2_shrinkage_regularization_strength=self.l2_shrinkage_regularization_strength, beta=self.beta)


_BY_NAME = {c.__name__.lower(): c for c in (SGD, RMSprop, Adam, AdamW, Adagrad, Adamax, Nadam, Adadelta, Lion, Ftrl)}


def serialize(optimizer):
    """{"module", "class_name", "config", "registered_name"} for an optimizer, as Keras writes it."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"serialize: expected an Optimizer, got {type(optimizer).__name__}")
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__, "config": optimizer.get_config(),
            "registered_name": None}


def deserialize(config, custom_objects=None):
    """An optimizer from serialize()'s dict (or {"class_name", "config"})."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize: expected a dict with 'class_name' and 'config', got {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _BY_NAME.get(str(name).lower())
    if cls is None:
        raise ValueError(f"optimizers.deserialize: unknown optimizer {name!r}; expected one of {sorted(_BY_NAME)}")
    return cls.from_config(config.get("config", {}), custom_objects)


def get(identifier):
    """An optimizer from a name ("sgd", "adam", "nadam", ...), a config dict or an instance; None gives None."""
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _BY_NAME:
            raise ValueError(f"optimizers.get: unknown optimizer {identifier!r}; expected one of {sorted(_BY_NAME)}")
        return _BY_NAME[key]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return deserialize(identifier)
    raise ValueError(f"optimizers.get: cannot interpret {identifier!r} as an optimizer")
