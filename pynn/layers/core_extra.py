"""Keras 3's graph helper layers: Lambda (a function as a layer) and Identity.

Note [Lambda functions in configs]
Keras saves a Lambda's Python function as marshalled bytecode and loads it back
(behind safe_mode). pynn never loads code from a file (Note [Untrusted model
files] in saving.py), so a Lambda's config records only the function's name and
module; from_config finds the function again in custom_objects (by that name),
or, for pynn's own ops and activations, in pynn.ops / pynn.activations, and
raises ValueError otherwise. An anonymous lambda is recorded as "<lambda>": give
the function a name (def) when the model is to be saved and loaded.
"""

import inspect

from .. import activations, ops, regularizers
from .base import Layer, register

__all__ = ["Lambda", "Identity"]

_OWN_MODULES = {"pynn.ops": ops, "pynn.activations": activations}


def _function_config(fn, what):
    if not callable(fn):
        raise TypeError(f"Lambda: {what} must be callable, got {type(fn).__name__}")
    name = getattr(fn, "__name__", None) or type(fn).__name__
    return {"class_name": "function", "module": getattr(fn, "__module__", None), "config": name}


def _function_from_config(entry, custom_objects, what):
    """The function a config names (Note [Lambda functions in configs]); never code from the config."""
    if not (isinstance(entry, dict) and isinstance(entry.get("config"), str)):
        raise ValueError(f"Lambda.from_config: {what} must be a function entry "
                         f"{{'class_name': 'function', 'module': ..., 'config': name}}, got {entry!r}")
    name, module = entry["config"], entry.get("module")
    custom = custom_objects if custom_objects is not None else regularizers._custom_objects.get()
    if custom and name in custom:
        return custom[name]
    own = _OWN_MODULES.get(module)
    if own is not None and name in getattr(own, "__all__", dir(own)) and callable(getattr(own, name, None)):
        return getattr(own, name)
    raise ValueError(f"Lambda.from_config: the {what} {name!r} (module {module!r}) is not known: pynn never loads "
                     f"Python code from a config, pass the function in custom_objects={{{name!r}: fn}}")


@register
class Lambda(Layer):
    """function(inputs, **arguments) as a layer, as Keras 3's Lambda.

    function: takes the input (or list of inputs) first; it also gets training= when it has a
    parameter of that name. It must compute with pynn ops (so gradients flow and captured
    steps record it), and must not read tensor values on the host (Note [Captured steps]).
    output_shape: None (found by calling the function on a dummy batch), a tuple without the
    batch axis (the input's batch size is put first), or a function of the full input shape.
    arguments: a dict of keyword arguments for function. mask: pynn has no masking, so only
    None is accepted.

    Saving: get_config records the function's name, never its code, and from_config (and
    load_model) raise ValueError unless the function is given in custom_objects by that name
    or is one of pynn.ops / pynn.activations (Note [Lambda functions in configs]).
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable, got {type(function).__name__}")
        if mask is not None:
            raise NotImplementedError("Lambda: mask= is not supported: pynn layers have no masking")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"Lambda: arguments must be a dict of keyword arguments, got {type(arguments).__name__}")
        if output_shape is not None and not callable(output_shape):
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise TypeError(f"Lambda: output_shape must be a tuple or a function, got "
                                f"{type(output_shape).__name__}") from None
            if any(d is not None and (isinstance(d, bool) or not isinstance(d, int) or d < 0) for d in output_shape):
                raise ValueError(f"Lambda: output_shape must hold non-negative ints or None, got {output_shape}")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = None
        self._output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):  # some builtins have no signature
            params = {}
        self._fn_takes_training = "training" in params

    def call(self, inputs, training=None):
        kwargs = dict(self.arguments)
        if self._fn_takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            try:
                return super().compute_output_shape(input_shape)  # the function on a dummy batch
            except Exception as e:
                raise NotImplementedError(f"{self.name} (Lambda): could not infer the output shape from inputs of "
                                          f"shape {input_shape} ({type(e).__name__}: {e}); give output_shape=") from e
        if callable(self._output_shape):
            out = self._output_shape(input_shape)
            return [tuple(s) for s in out] if isinstance(out, list) else tuple(out)
        first = input_shape[0] if isinstance(input_shape, list) else input_shape
        batch = first[0] if len(first) else None
        return (batch,) + self._output_shape

    def get_config(self):
        config = dict(super().get_config(), function=_function_config(self.function, "function"))
        if self._output_shape is not None:
            config["output_shape"] = (_function_config(self._output_shape, "output_shape")
                                      if callable(self._output_shape) else list(self._output_shape))
        config["arguments"] = dict(self.arguments)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The layer of `config`; its function (and a function output_shape) must be given in
        custom_objects by name, or be in pynn.ops / pynn.activations: ValueError otherwise."""
        config = dict(config)
        config["function"] = _function_from_config(config.get("function"), custom_objects, "function")
        shape = config.get("output_shape")
        if isinstance(shape, dict):
            config["output_shape"] = _function_from_config(shape, custom_objects, "output_shape")
        elif shape is not None:
            config["output_shape"] = tuple(shape)
        return cls(**config)


@register
class Identity(Layer):
    """Returns its input unchanged (a placeholder where no operation is wanted), as Keras 3."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape
