"""Learning-rate schedules, Keras 3's (keras.optimizers.schedules).

A schedule is a callable of the optimizer step (the number of updates done
so far, counted before the current one) returning the learning rate as a
Python float; pass one as any optimizer's `learning_rate`. The formulas are
Keras'; each class's docstring states its own. get_config()/from_config()
and serialize()/deserialize() round-trip them.
"""

import math

__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay",
           "InverseTimeDecay", "CosineDecay", "CosineDecayRestarts", "serialize", "deserialize"]


def _step(step):
    return float(step)  # an int, a float or a 0-d tensor (the optimizer's counter)


def _positive_steps(schedule, label, value):
    if not value > 0:
        raise ValueError(f"{type(schedule).__name__}: argument `{label}` must be > 0. Received: {label}={value}")


class LearningRateSchedule:
    """The base class: subclasses define __call__(step) and get_config()."""

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override "
                                  "`__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override "
                                  "`get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """lr = initial_learning_rate * decay_rate ** (step / decay_steps); with staircase
    the exponent is floor(step / decay_steps)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        _positive_steps(self, "decay_steps", decay_steps)
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = _step(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <= boundaries[i],
    values[-1] once step > boundaries[-1]."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError("PiecewiseConstantDecay: the length of boundaries should be 1 less than the length of "
                             "values. Received: "
                             f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of "
                             f"length {len(values)}.")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step):
        s = _step(step)
        for b, v in zip(self.boundaries, self.values):
            if s <= b:
                return float(v)
        return float(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """lr = (initial - end) * (1 - s / decay_steps) ** power + end with s = min(step, decay_steps);
    with cycle, decay_steps is first multiplied by ceil(step / decay_steps) (1 at step 0)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        _positive_steps(self, "decay_steps", decay_steps)
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        s, steps = _step(step), float(self.decay_steps)
        if self.cycle:
            steps *= 1.0 if s == 0 else math.ceil(s / self.decay_steps)
        else:
            s = min(s, steps)
        return (self.initial_learning_rate - self.end_learning_rate) * (1 - s / steps) ** self.power \
            + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """lr = initial_learning_rate / (1 + decay_rate * step / decay_steps); with staircase
    step / decay_steps is floored."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        _positive_steps(self, "decay_steps", decay_steps)
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = _step(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay with an optional linear warmup (Loshchilov & Hutter; Goyal et al.).

    Without warmup_target: s = min(step, decay_steps),
    lr = initial * ((1 - alpha) * 0.5 * (1 + cos(pi s / decay_steps)) + alpha).
    With warmup_target: s = min(step, warmup_steps + decay_steps); while s < warmup_steps
    lr = initial + (warmup_target - initial) * s / warmup_steps, then the decay above from
    warmup_target over s - warmup_steps.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        _positive_steps(self, "decay_steps", decay_steps)
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, s, start):
        cosine = 0.5 * (1.0 + math.cos(math.pi * s / self.decay_steps))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        s = _step(step)
        if self.warmup_target is None:
            return self._decay(min(s, self.decay_steps), self.initial_learning_rate)
        s = min(s, self.decay_steps + self.warmup_steps)
        if s < self.warmup_steps:
            return (self.warmup_target - self.initial_learning_rate) * (s / self.warmup_steps) \
                + self.initial_learning_rate
        return self._decay(s - self.warmup_steps, float(self.warmup_target))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): the multiplier decays from 1 to alpha over
    first_decay_steps, then restarts; period i lasts first_decay_steps * t_mul**i steps and
    starts at m_mul**i. Within a period at fraction f: lr = initial * ((1 - alpha) * m_mul**i *
    0.5 * (1 + cos(pi f)) + alpha)."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        _positive_steps(self, "first_decay_steps", first_decay_steps)
        self.initial_learning_rate = float(initial_learning_rate)
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        fraction = _step(step) / self.first_decay_steps
        t_mul = float(self._t_mul)
        if t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            done = (1.0 - t_mul ** restart) / (1.0 - t_mul)  # periods finished, in first periods
            fraction = (fraction - done) / t_mul ** restart
        cosine = 0.5 * self._m_mul ** restart * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self._t_mul, "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_BUILTIN = {c.__name__: c for c in (ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay,
                                     CosineDecay, CosineDecayRestarts)}


def serialize(learning_rate_schedule):
    """{"module", "class_name", "config", "registered_name"} for a schedule, as Keras writes it."""
    if not isinstance(learning_rate_schedule, LearningRateSchedule):
        raise TypeError(f"serialize: expected a LearningRateSchedule, got {type(learning_rate_schedule).__name__}")
    cls = type(learning_rate_schedule)
    builtin = _BUILTIN.get(cls.__name__) is cls
    return {"module": "keras.optimizers.schedules" if builtin else cls.__module__, "class_name": cls.__name__,
            "config": learning_rate_schedule.get_config(), "registered_name": None if builtin else cls.__name__}


def deserialize(config, custom_objects=None):
    """A schedule from serialize()'s dict (or {"class_name", "config"}); custom_objects maps other
    class names to classes."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize: expected a dict with 'class_name' and 'config', got {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _BUILTIN.get(name)
    if cls is None:
        raise ValueError(f"deserialize: unknown learning rate schedule {name!r}; expected one of "
                         f"{sorted(_BUILTIN)} or a class in custom_objects")
    return cls.from_config(dict(config.get("config", {})))
