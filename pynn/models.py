"""Models: Sequential, functional (Model(inputs, outputs)) and subclassed (Model with call()),
with Keras' training API: compile, fit, evaluate, predict, train_on_batch, test_on_batch,
summary, save / load_model.

Note [Training step]
One step of fit is: gather the batch (rows of the arrays, through the epoch's
shuffled order, in C++), run the model forward inside a GradientTape, take the
loss (a softmax or sigmoid output hands its logits to a cross-entropy loss:
Note [Logits behind probabilities]), walk the tape back (each node one fused
C++ backward), let the optimizer update every trainable weight in place (one
fused C++ pass per weight), then update the loss tracker and the metrics with
no tape. The loss is tracked as the mean over the samples seen this epoch,
weighted by batch size, as in Keras 3, and that running mean is what the
progress bar and History show.

That eager step is the only definition of a step. fit, evaluate and predict
run it through a _StepRunner, which captures it (Note [Captured steps] in
csrc/plan/plan.h): per batch signature (the batch's shapes and dtypes), the
first step runs eagerly (layers and optimizer slots are built), the second is
recorded while it runs, and every later one replays the recording in one C++
call. A metric whose update cannot be captured (it computes in NumPy) runs
eagerly on the replayed step's outputs. compile(jit_compile=..., run_eagerly=...)
chooses, as in Keras: "auto" (the default) captures when it can and otherwise
warns once and stays eager; True raises instead; False or run_eagerly=True
never captures. model.plan_info() says which path each signature took and why.
"""

import math

import numpy as np

import warnings

from . import _capture, _core
from . import data as _data
from . import losses as _losses
from . import metrics as _metrics
from . import optimizers as _optimizers
from . import random as _random
from .autograd import GradientTape, no_grad
from .dtypes import as_dtype
from .layers.base import KerasTensor, Layer, _is_nested_numbers, register
from .layers.core import InputLayer
from .tensor import Tensor, from_numpy, tensor

__all__ = ["Model", "Sequential", "load_model", "model_from_json"]


@register
class Model(Layer):
    """A model: layers plus training. Three ways to make one, as in Keras:

    - ``Sequential([...])``: a stack of layers;
    - functional: ``x = Input(shape=(784,)); y = Dense(10)(x); Model(inputs=x, outputs=y)``;
    - subclassing: create layers in ``__init__``, use them in ``call(inputs, training=None)``.
    """

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", args[0] if len(args) > 0 else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        super().__init__(**kwargs)
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.run_eagerly, self.jit_compile = False, "auto"  # compile() sets them (Note [Training step])
        self.stop_training = False
        self.history = None
        self._graph = None
        self._build_input_shape = None
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("Model: a functional model needs both inputs and outputs")
            self._init_graph(inputs, outputs)

    # ------------------------------------------------------------ functional graph
    def _init_graph(self, inputs, outputs):
        flat_in = _flat(inputs)
        flat_out = _flat(outputs)
        for t in flat_in + flat_out:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Model: inputs and outputs must be symbolic tensors from pynn.Input(...) and layer "
                                f"calls on them, got {type(t).__name__}")
        for t in flat_in:
            if not isinstance(t.node.layer, InputLayer):
                raise ValueError(f"Model: input {t.name} is not made by pynn.Input(...)")
        nodes, seen = [], set()

        def visit(t, path):
            node = t.node
            if id(node) in seen:
                return
            if id(node) in path:
                raise ValueError("Model: the graph has a cycle")
            if isinstance(node.layer, InputLayer) and all(t is not x for x in flat_in):
                raise ValueError(f"Model: the outputs depend on the input {t.name}, which is not among the model's "
                                 f"inputs (graph disconnected)")
            for x in node.inputs:
                visit(x, path | {id(node)})
            seen.add(id(node))
            nodes.append(node)

        for t in flat_out:
            visit(t, frozenset())
        self._graph = (inputs, outputs, nodes)
        layers = []
        for node in nodes:
            if node.layer not in layers:
                layers.append(node.layer)
        self._layers = layers
        self.built = True
        self._build_input_shape = [t.shape for t in flat_in] if isinstance(inputs, (list, tuple)) else inputs.shape
        self.input_shape = self._build_input_shape
        self.output_shape = [t.shape for t in flat_out] if isinstance(outputs, (list, tuple)) else outputs.shape

    @property
    def inputs(self):
        return None if self._graph is None else _flat(self._graph[0])

    @property
    def outputs(self):
        return None if self._graph is None else _flat(self._graph[1])

    def _convert(self, x):
        if self._graph is None:
            return super()._convert(x)
        # A functional model's inputs keep their dtype up to their InputLayer's.
        single = not isinstance(x, (list, tuple)) or _is_nested_numbers(x)  # nested numbers: one input
        flat = [x] if single else list(x)
        expected = self.inputs
        if len(flat) != len(expected):
            raise ValueError(f"{self.name}: expected {len(expected)} input(s), got {len(flat)}")
        converted = []
        for v, t in zip(flat, expected):
            v = _as_tensor(v)
            if v.dtype != t.dtype:
                v = v.astype(t.dtype)
            converted.append(v)
        return converted[0] if single else converted

    def call(self, inputs, training=None):
        if self._graph is None:
            raise NotImplementedError(
                f"{type(self).__name__}: subclass Model and define call(inputs, training=None), or build a "
                f"functional model with Model(inputs, outputs)")
        graph_in, graph_out, nodes = self._graph
        values = {id(t): v for t, v in zip(_flat(graph_in), _flat(inputs))}
        for node in nodes:
            if isinstance(node.layer, InputLayer):
                continue
            args = node.args
            args = [values[id(a)] for a in args] if isinstance(args, (list, tuple)) else values[id(args)]
            out = node.layer(args, training=training)
            for t, v in zip(_flat(node.outputs), _flat(out)):
                values[id(t)] = v
        if isinstance(graph_out, (list, tuple)):
            return [values[id(t)] for t in graph_out]
        return values[id(graph_out)]

    def __call__(self, inputs, training=None, **kwargs):
        if self._build_input_shape is None and not isinstance(inputs, (KerasTensor, list, tuple)):
            shape = tuple(np.shape(inputs)) if not isinstance(inputs, Tensor) else inputs.shape
            self._build_input_shape = (None,) + shape[1:] if shape else shape
        return super().__call__(inputs, training=training, **kwargs)

    def get_layer(self, name=None, index=None):
        """A layer by name or by index in `layers`."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"{self.name}: no layer named {name!r}; layers: {[l.name for l in self.layers]}")

    # ------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                **kwargs):
        """Sets the optimizer, the loss and the metrics for fit/evaluate (names or objects).

        "accuracy" is resolved by the loss, as Keras does (sparse categorical
        cross-entropy -> sparse categorical accuracy, and so on). A model with several
        outputs (Note [Several outputs]) takes a loss per output (a list, a dict by output
        layer name, or one loss for all), loss_weights (list or dict), and metrics and
        weighted_metrics per output (a list of lists, or a dict).
        """
        run_eagerly = kwargs.pop("run_eagerly", False)
        jit_compile = kwargs.pop("jit_compile", "auto")
        for key in ("steps_per_execution", "auto_scale_loss"):
            kwargs.pop(key, None)  # Keras execution options that change nothing here
        if jit_compile not in ("auto", True, False):
            raise ValueError(f"compile: jit_compile must be 'auto', True or False, got {jit_compile!r}")
        if kwargs:
            raise TypeError(f"compile: unrecognized arguments {sorted(kwargs)}")
        if loss is None:
            raise ValueError("compile: give a loss, e.g. loss='sparse_categorical_crossentropy'")
        if self._graph is not None and len(self.outputs) > 1:
            self._outputs_spec, self._loss_fn = _compile_outputs(self, loss, loss_weights, metrics,
                                                                 weighted_metrics), None
            self.metrics = [m for spec in self._outputs_spec for m in spec.metrics]
            self.metrics += [m for spec in self._outputs_spec for m in spec.weighted_metrics]
            self._metric_slots = {}
            for i, spec in enumerate(self._outputs_spec):
                self._metric_slots.update({id(m): (i, False) for m in spec.metrics})
                self._metric_slots.update({id(m): (i, True) for m in spec.weighted_metrics})
            trackers = [spec.tracker for spec in self._outputs_spec if spec.tracker is not None]
            self._metric_slots.update({id(m): (i, None) for i, m in enumerate(s.tracker for s in self._outputs_spec)
                                       if m is not None})
            self.metrics += trackers  # Keras' order: loss, compiled metrics, then the per-output losses
            self._compile_args = {"optimizer": optimizer, "loss": loss, "metrics": metrics,
                                  "loss_weights": loss_weights, "weighted_metrics": weighted_metrics}
        else:
            self._outputs_spec = None
            # A functional model's one output may be named in dicts, as Keras allows.
            name = self.outputs[0].node.layer.name if self._graph is not None else None
            loss = _single_output_entry(loss, name, "loss")
            loss_weights = _single_output_entry(loss_weights, name, "loss_weights")
            metrics = _single_output_entry(metrics, name, "metrics")
            weighted_metrics = _single_output_entry(weighted_metrics, name, "weighted_metrics")
            if loss is None:
                raise ValueError("compile: give a loss, e.g. loss='sparse_categorical_crossentropy'")
            if loss_weights is not None and not isinstance(loss_weights, (int, float)):
                loss_weights = _flat(loss_weights) if not isinstance(loss_weights, dict) else loss_weights
                if len(loss_weights) != 1:
                    raise ValueError(f"compile: {self.name} has one output; loss_weights must be a number or "
                                     f"one weight, got {loss_weights!r}")
                loss_weights = list(loss_weights.values() if isinstance(loss_weights, dict) else loss_weights)[0]
            self._loss_fn = _losses.get(loss)
            if isinstance(metrics, (str, _metrics.Metric)) or (callable(metrics) and not isinstance(metrics, list)):
                metrics = [metrics]
            if isinstance(weighted_metrics, (str, _metrics.Metric)) or (
                    callable(weighted_metrics) and not isinstance(weighted_metrics, list)):
                weighted_metrics = [weighted_metrics]
            self._compile_args = {"optimizer": optimizer, "loss": loss, "metrics": list(metrics or [])}
            # The metrics of a one-output model are given the sample weights (pynn's rule), so the
            # weighted ones are more of them.
            self.metrics = [_metrics.get(m, loss=loss) for m in list(metrics or []) + list(weighted_metrics or [])]
            if weighted_metrics:
                self._compile_args["weighted_metrics"] = list(weighted_metrics)
                n = len(metrics or [])
                _name_metrics([(None, self.metrics[:n])], [(None, self.metrics[n:])])
        self._loss_weight = None if self._outputs_spec is not None else loss_weights
        self.optimizer = _optimizers.get(optimizer)
        self.loss = loss
        self._output_losses = None
        self._loss_tracker = _metrics.Mean(name="loss")
        self._log_order = None
        self.run_eagerly = bool(run_eagerly)
        self.jit_compile = jit_compile
        self.compiled = True
        self._train_variables = None
        self._plans = {}  # Note [Training step]

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_plans"] = {}  # captured steps are a cache of C++ plans over this object's tensors
        return state

    def plan_info(self):
        """How fit / evaluate / predict run each batch signature (Note [Training step]): a list of
        dicts with the mode, the batch shapes, the path ("captured"; "pending": run once, eagerly,
        captured when it comes again; "eager"), why a step stays eager, the number of kernel calls and buffer bytes of a plan, and the metrics
        that update eagerly after each replay."""
        out = []
        for (mode, sig, _), entry in getattr(self, "_plans", {}).items():
            rows, shapes = sig
            info = {"mode": mode, "batch": [(rows,) + shape for shape, _ in shapes], "path": "eager"}
            if entry.plan is not None:
                info.update(path="captured", kernel_calls=len(entry.plan.ops), buffer_bytes=entry.plan.plan.buffer_bytes,
                            eager_metrics=[m.name for m in entry.eager_metrics])
            elif entry.reason:
                info["reason"] = entry.reason
            elif not self.run_eagerly and self.jit_compile is not False:
                info["path"] = "pending"  # ran once, eagerly; captured when this signature comes again
            out.append(info)
        if not out:
            out.append({"path": "eager" if self.run_eagerly or self.jit_compile is False else "not run yet",
                        "jit_compile": self.jit_compile, "run_eagerly": self.run_eagerly})
        return out

    def _assert_compiled(self, what):
        if not self.compiled:
            raise ValueError(f"You must call compile() before {what}(): the model needs an optimizer and a loss, "
                             f"e.g. model.compile(optimizer='rmsprop', loss='sparse_categorical_crossentropy')")

    def _assert_trainable(self, what):
        """Compiled, and with an optimizer: compile(optimizer=None) is enough for evaluate/predict only."""
        self._assert_compiled(what)
        if self.optimizer is None:
            raise ValueError(f"{what}: the model was compiled with optimizer=None; training needs an optimizer, "
                             f"e.g. model.compile(optimizer='rmsprop', loss=...)")

    @property
    def metrics_names(self):
        return ["loss"] + [m.name for m in getattr(self, "metrics", [])]

    def compute_loss(self, y, y_pred, sample_weight=None):
        """The compiled loss, reduced to a scalar (a plain function's values are averaged);
        sample_weight weighs each sample as Keras' losses do (Note [Loss reduction]). Plus, as
        Keras 3's Trainer.compute_loss, the sum of each of `self.losses` (add_loss values,
        activity and weight regularization: Note [Layer losses] in pynn/layers/base.py).

        With several outputs (Note [Several outputs]) y and y_pred are lists in the order of
        the outputs; the total is the sum of loss_weight * each output's loss, and the
        unweighted per-output losses are kept for their trackers."""
        specs = getattr(self, "_outputs_spec", None)
        if specs is None:
            total = _one_loss(self._loss_fn, y, y_pred, sample_weight)
            if getattr(self, "_loss_weight", None) is not None:
                total = total * self._loss_weight
        else:
            ys, preds = _flat(y), _flat(y_pred)
            if len(ys) != len(specs) or len(preds) != len(specs):
                raise ValueError(f"compute_loss: {self.name} has {len(specs)} outputs "
                                 f"{[spec.name for spec in specs]}; got {len(ys)} targets and {len(preds)} predictions")
            total, values = None, []
            for spec, yt, yp in zip(specs, ys, preds):
                if spec.loss_fn is None:  # an output without a loss (loss dict without its name)
                    values.append(None)
                    continue
                value = _one_loss(spec.loss_fn, yt, yp, sample_weight)
                values.append(value)
                if spec.weight is not None:
                    value = value * spec.weight
                total = value if total is None else total + value
            self._output_losses = values
        for extra in self.losses:
            extra = _as_loss_tensor(extra)
            if not extra.dtype.is_floating_point:
                extra = extra.astype("float32")  # Keras casts a non-float loss to floatx
            total = total + (extra if extra.ndim == 0 else extra.sum())
        return total

    def reset_metrics(self):
        self._loss_tracker.reset_state()
        for m in self.metrics:
            m.reset_state()

    def _logs(self):
        """The loss and metric results by name, in sorted order (as Keras' logs)."""
        cached = getattr(self, "_log_order", None)
        if cached is None or cached[0] is not self.metrics or len(cached[1]) != len(self.metrics) + 1:
            pairs = sorted([(m.name, m) for m in self.metrics] + [("loss", self._loss_tracker)], key=lambda p: p[0])
            cached = self._log_order = (self.metrics, pairs)
        return {name: m.result() for name, m in cached[1]}

    def _update_metrics(self, loss, y, y_pred, n, sample_weight=None):
        """The loss tracker (weighted by the batch size, as Keras 3) and every metric (weighted by
        sample_weight) after a batch of n samples; returns the metrics whose update could not be
        captured (Note [Training step]). With several outputs, each output's loss tracker takes
        that output's unweighted loss, weighted by the batch size, as Keras 3's CompileLoss."""
        with no_grad():
            self._loss_tracker.update_state(loss, n)
            if getattr(self, "_outputs_spec", None) is None:
                return [m for m in self.metrics if not _capture.sub_step(_update_metric, m, y, y_pred, sample_weight)]
            values, self._output_losses = self._output_losses, None
            eager = []
            for m in self.metrics:
                i, weighted = self._metric_slots[id(m)]
                if weighted is None:  # the output's loss tracker
                    if values is not None and values[i] is not None:
                        m.update_state(values[i], n)
                elif not _capture.sub_step(_update_metric_of, self, m, y, y_pred, sample_weight):
                    eager.append(m)
            return eager

    # ------------------------------------------------------------ one batch
    def train_step(self, x, y, sample_weight=None):
        """Forward, loss, gradients, update (Note [Training step]); returns (loss, predictions)."""
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y, y_pred, sample_weight)
        variables = self._train_variables
        if variables is None:  # built by the first forward pass
            variables = self._train_variables = self.trainable_variables
        grads = tape.gradient(loss, variables)
        self.optimizer.apply(grads, variables)
        return loss, y_pred

    def test_step(self, x, y, sample_weight=None):
        with no_grad():
            y_pred = self(x, training=False)
            return self.compute_loss(y, y_pred, sample_weight), y_pred

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on (x, y); returns this batch's loss, or [loss, *metrics] with metrics
        (the metrics are reset first, Keras 2's default)."""
        return self._one_batch(x, y, sample_weight, class_weight, self.train_step, "train_on_batch", return_dict)

    def test_on_batch(self, x, y, sample_weight=None, return_dict=False):
        """The loss (and metrics) of one batch without training."""
        return self._one_batch(x, y, sample_weight, None, self.test_step, "test_on_batch", return_dict)

    def _one_batch(self, x, y, sample_weight, class_weight, step, op, return_dict):
        if step == self.train_step:
            self._assert_trainable(op)
        else:
            self._assert_compiled(op)
        xs, y = _prepare(_flat_inputs(x, op), y, op, self)
        sw = _sample_weights(y, sample_weight, class_weight, op)
        self.reset_metrics()
        bx = [from_numpy(a) for a in xs]
        bx = bx[0] if len(bx) == 1 else bx
        by = [from_numpy(a) for a in y] if isinstance(y, list) else from_numpy(y)
        bw = None if sw is None else from_numpy(sw)
        loss, y_pred = step(bx, by) if bw is None else step(bx, by, bw)
        self._update_metrics(loss, by, y_pred, _y_length(y), bw)
        return self._result(return_dict)

    def predict_on_batch(self, x):
        with no_grad():
            return _to_numpy(self(x, training=False))

    def _result(self, return_dict):
        logs = self._logs()
        if return_dict:
            return logs
        values = [logs["loss"]] + [logs[m.name] for m in self.metrics]
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------ fit / evaluate / predict
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1):
        """Trains for `epochs` passes over (x, y) in batches; returns the History.

        x: an array or Tensor of any numeric dtype (or a list of them for a model
        with several inputs); y: labels or targets, same length. Or x a generator,
        iterator or PyDataset of batches (Note [Data pipelines] in pynn/data.py), y
        then None; steps_per_epoch limits the batches per epoch. validation_split
        holds out the LAST fraction of the samples, taken before any shuffling
        (as in Keras), and evaluates on it after each epoch; validation_data=(x_val,
        y_val[, sample_weight]) or a pipeline does the same with given data and takes
        precedence (every validation_freq epochs, or at the epochs in a list of them).
        shuffle draws a new sample order every epoch from pynn's generator
        (pynn.random.seed makes it reproducible). verbose: 0 silent, 1 a progress bar
        (one line per epoch when not on a terminal), 2 one line per epoch; "auto" is 1.
        A callback (or EarlyStopping) may set model.stop_training to end early.
        """
        from .callbacks import CallbackList

        self._assert_trainable("fit")
        batch_size = _check_batch_size(batch_size, "fit")
        verbose = _check_verbose(verbose, "fit")
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
        if not 0 <= validation_split < 1:
            raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
        val_batch = _check_batch_size(validation_batch_size or batch_size, "fit (validation_batch_size)")
        pipeline = _data.adapt(x, "fit", steps_per_epoch)
        val = None
        if validation_data is not None:
            where = "fit (validation_data)"
            val_pipeline = _data.adapt(validation_data, where, validation_steps)
            if val_pipeline is not None:
                val = _PipelineFeed(self, "test", val_pipeline, where)
            else:
                if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                    raise ValueError("fit: validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                                     "sample_weight_val), or a generator or PyDataset")
                vw = validation_data[2] if len(validation_data) == 3 else None
                val = _feed(self, "test", validation_data[0], validation_data[1], vw, None, val_batch, None, where)
        if pipeline is not None:
            if validation_split:
                raise ValueError("fit: validation_split cannot split a generator or a PyDataset; give validation_data")
            if y is not None or sample_weight is not None:
                raise ValueError("fit: y and sample_weight must not be given when x is a generator or a PyDataset: "
                                 "its batches carry them")
            feed = _PipelineFeed(self, "train", pipeline, "fit", class_weight)
        else:
            xs, y = _prepare(_flat_inputs(x, "fit"), y, "fit", self)
            sw = _sample_weights(y, sample_weight, class_weight, "fit")
            if validation_split and validation_data is None:
                n = _length(xs[0])
                split_at = int(math.floor(n * (1.0 - validation_split)))
                if split_at == 0 or split_at == n:
                    raise ValueError(f"fit: validation_split={validation_split} leaves no training or no "
                                     f"validation sample out of {n}")
                val = _ArrayFeed(self, "test", [a[split_at:] for a in xs], _take(y, slice(split_at, None)),
                                 None if sw is None else sw[split_at:], val_batch)
                xs, y = [a[:split_at] for a in xs], _take(y, slice(None, split_at))
                sw = None if sw is None else sw[:split_at]
            feed = _ArrayFeed(self, "train", xs, y, sw, batch_size)
        cbs = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self, verbose=verbose,
                           epochs=epochs, steps=feed.steps)
        self.stop_training = False
        self._train_variables = None
        cbs.on_train_begin()
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            if feed.exhausted():
                warnings.warn("fit: your input ran out of data; interrupting training. Make sure that it can give at "
                              "least steps_per_epoch * epochs batches", UserWarning, stacklevel=2)
                break
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            for step, (order, start, stop) in enumerate(feed.batches(shuffle)):
                cbs.on_train_batch_begin(step)
                feed.runner.step(order, start, stop)
                cbs.on_train_batch_end(step, self._logs())
                if self.stop_training:
                    break
            epoch_logs = self._logs()
            if val is not None and _validate_now(validation_freq, epoch):
                val_logs = self._evaluate_loop(val, None)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        self.optimizer.finalize_variable_values(self.trainable_variables)  # use_ema: the averages (Keras)
        cbs.on_train_end(epoch_logs)
        return self.history

    def _evaluate_loop(self, feed, cbs):
        self.reset_metrics()
        for step, (order, start, stop) in enumerate(feed.batches(False)):
            if cbs is not None:
                cbs.on_test_batch_begin(step)
            feed.runner.step(order, start, stop)
            if cbs is not None:
                cbs.on_test_batch_end(step, self._logs())
        return self._logs()

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False):
        """The loss and metrics over (x, y) (or a generator or PyDataset of batches, at most `steps`
        of them): [loss, *metrics], or a float without metrics (a dict with return_dict=True);
        sample_weight weighs the loss and the metrics."""
        from .callbacks import CallbackList

        self._assert_compiled("evaluate")
        batch_size = _check_batch_size(batch_size, "evaluate")
        verbose = _check_verbose(verbose, "evaluate")
        feed = _feed(self, "test", x, y, sample_weight, None, batch_size, steps, "evaluate")
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                           steps=feed.steps)
        cbs.on_test_begin()
        logs = self._evaluate_loop(feed, cbs)
        cbs.on_test_end(logs)
        return self._result(return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for x (arrays, or a generator or PyDataset of batches whose x is
        taken, at most `steps` of them) as a NumPy array (a list of arrays for several outputs)."""
        from .callbacks import CallbackList

        batch_size = _check_batch_size(batch_size, "predict")
        verbose = _check_verbose(verbose, "predict")
        feed = _feed(self, "predict", x, None, None, None, batch_size, steps, "predict")
        cbs = CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=1,
                           steps=feed.steps)
        cbs.on_predict_begin()
        chunks = []
        with no_grad():
            for step, (order, start, stop) in enumerate(feed.batches(False)):
                cbs.on_predict_batch_begin(step)
                out = _to_numpy(feed.runner.step(order, start, stop))
                chunks.append(out)
                cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        if not chunks:
            raise ValueError("predict: x has no samples")
        if isinstance(chunks[0], list):
            return [np.concatenate([c[i] for c in chunks]) for i in range(len(chunks[0]))]
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)

    # ------------------------------------------------------------ summary
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):
        """Prints Keras' table of layers, output shapes and parameter counts, line by line through
        print_fn (print by default). Keras 3's options: line_length (the table's width),
        positions (each column's right edge, as fractions of line_length), expand_nested (nested
        models' layers below them), show_trainable (a Trainable column: Y, N, or - without weights),
        layer_range (two name patterns: the first layer matching the first to the last matching
        the second)."""
        from .saving import summary_lines

        if print_fn is not None and not callable(print_fn):
            raise TypeError(f"{self.name}.summary: print_fn must be callable, got {type(print_fn).__name__}")
        for line in summary_lines(self, line_length, positions, expand_nested, show_trainable, layer_range):
            (print_fn or print)(line)

    def to_json(self, **kwargs):
        """The model's architecture as a JSON string in Keras' layout ({"class_name", "config",
        ...}); json.dumps' keyword arguments (indent=...) pass through. No weights; rebuild it with
        pynn.models.model_from_json."""
        import json

        from .saving import model_json_dict

        return json.dumps(model_json_dict(self), **kwargs)

    # ------------------------------------------------------------ config and saving
    def get_config(self):
        if self._graph is None:
            raise NotImplementedError(
                f"{type(self).__name__} is a subclassed model: its architecture is Python code, not a config. "
                f"Define get_config() (and from_config) to save it, or use save_weights()/load_weights()")
        from .saving import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .saving import functional_from_config

        return _with_custom_objects(custom_objects, functional_from_config, cls, config, custom_objects)

    def save(self, filepath):
        """Architecture (JSON config), weights, compile settings and optimizer state in one zip file,
        written to a temporary file and renamed (never half-written). Load with pynn.models.load_model."""
        from .saving import save_model

        save_model(self, filepath)

    def save_weights(self, filepath):
        """The weights alone as a .npz file (atomically)."""
        from .saving import save_weights

        save_weights(self, filepath)

    def load_weights(self, filepath, max_bytes=None):
        """Weights from save_weights' .npz or a save() file, checked against this model's shapes
        before any is changed. The file is untrusted (Note [Untrusted model files] in saving.py):
        max_bytes caps the bytes it may unpack to, by default its size on disk plus 64 MiB."""
        from .saving import load_weights

        load_weights(self, filepath, max_bytes)


@register
class Sequential(Model):
    """A linear stack of layers. With a known input shape (an Input first, or input_shape= on
    the first layer) it builds at once; otherwise on its first call or fit."""

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        super().__init__(trainable=trainable, name=name, **kwargs)
        self._input_layer = None
        for layer in layers or []:
            self.add(layer)

    def add(self, layer):
        """Appends a layer (or the tensor Input() returns, which stands for its InputLayer)."""
        if isinstance(layer, KerasTensor):
            layer = layer.node.layer
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add: expected a layer, got {type(layer).__name__}")
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("Sequential: an Input can only come first")
            self._input_layer = layer
            self._build_from(layer.batch_shape)
            return
        self._layers.append(layer)
        self._train_variables = None
        if len(self._layers) == 1 and self._input_layer is None and layer._input_shape_arg is not None:
            self._input_layer = InputLayer(shape=layer._input_shape_arg, batch_size=layer._batch_size_arg)
        if self._input_layer is not None:
            self._build_from(self._input_layer.batch_shape)

    def pop(self, rebuild=True):
        """Removes the last layer and returns it, as Keras 3; with rebuild (the default) a model
        with a known input shape is built again for the layers left. ValueError when empty."""
        if not self._layers:
            raise ValueError(f"{self.name}: pop() on a Sequential model with no layers")
        layer = self._layers.pop()
        self._train_variables, self._symbolic = None, None
        self.built = False
        if rebuild and self._layers and self._build_input_shape is not None:
            self._build_from(self._build_input_shape)
        return layer

    @property
    def inputs(self):
        """[the input's symbolic tensor] once the model knows its input shape, else None."""
        return None if self._symbolic_graph() is None else [self._symbolic[0]]

    @property
    def outputs(self):
        """[the output's symbolic tensor] once the model knows its input shape, else None."""
        return None if self._symbolic_graph() is None else [self._symbolic[1]]

    def _symbolic_graph(self):
        """The model's layers called on a symbolic input of its build shape (made once per build)."""
        if not self.built or not self._layers or self._build_input_shape is None:
            return None
        if getattr(self, "_symbolic", None) is None:
            x = (self._input_layer.output if self._input_layer is not None
                 else InputLayer(batch_shape=self._build_input_shape).output)
            y = x
            for layer in self._layers:
                y = layer(y)
            self._symbolic = (x, y)
        return self._symbolic

    def _build_from(self, shape):
        """Builds every layer from the input shape, keeping each layer's output shape for summary()."""
        self._symbolic = None
        self._build_input_shape = tuple(shape)
        self.input_shape = self._build_input_shape
        for layer in self._layers:
            layer._maybe_build(shape)
            shape = layer.compute_output_shape(shape)
            layer.output_shape = shape
        self.output_shape = shape
        self.built = True

    def build(self, input_shape):
        if isinstance(input_shape, list):
            raise ValueError(f"{self.name}: a Sequential model takes one input, got {len(input_shape)}")
        self._build_from((None,) + tuple(input_shape)[1:])

    def call(self, inputs, training=None):
        if not self._layers:
            raise ValueError(f"{self.name}: the Sequential model has no layers")
        x = inputs
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def _convert(self, x):
        if isinstance(x, (list, tuple)) and not _is_nested_numbers(x):  # a nested list of numbers is one input
            raise ValueError(f"{self.name}: a Sequential model takes one input, got a list of {len(x)}")
        return Layer._convert(self, x)

    def get_config(self):
        from .saving import sequential_config

        return sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .saving import sequential_from_config

        return _with_custom_objects(custom_objects, sequential_from_config, cls, config, custom_objects)


def _with_custom_objects(custom_objects, fn, *args):
    """fn(*args) with custom_objects visible to the layers' own from_config (a Lambda's function,
    a custom regularizer or constraint), as load_model makes them."""
    from . import regularizers

    if custom_objects is None:
        return fn(*args)
    token = regularizers._custom_objects.set(custom_objects)
    try:
        return fn(*args)
    finally:
        regularizers._custom_objects.reset(token)


def model_from_json(json_string, custom_objects=None):
    """A model (new weights) from model.to_json()'s string: parsed as data, never run, its layer
    classes only from the registry or custom_objects={"Name": cls}. ValueError for a string
    that is not such a config."""
    from .saving import model_from_json as _from_json

    return _from_json(json_string, custom_objects)


def load_model(filepath, custom_objects=None, compile=True, max_bytes=None):
    """A model saved by model.save(): rebuilt from its JSON config, weights restored, compiled
    again (and the optimizer's state restored) when it was compiled. Never runs code from the
    file. Custom layer or model classes: custom_objects={"Name": cls} or pynn.layers.register.

    The file is untrusted (Note [Untrusted model files] in saving.py): a damaged or hostile one
    raises ValueError naming the path, before anything large is allocated. max_bytes caps the
    bytes its members may unpack to, by default the file's size on disk plus 64 MiB (pynn's own
    files are stored uncompressed and never reach it); raise it for a file you trust that
    another tool compressed."""
    from .saving import load_model as _load

    return _load(filepath, custom_objects, compile, max_bytes)


# ---------------------------------------------------------------- feeds: arrays or a pipeline

class _ArrayFeed:
    """Batches of prepared arrays: rows gathered in C++ (through the epoch's order)."""

    def __init__(self, model, mode, xs, y, sw, batch_size):
        self.runner = _StepRunner(model, mode, xs, y, sw)
        self.n, self.batch_size = _length(xs[0]), batch_size
        self.steps = -(-self.n // batch_size)

    def batches(self, shuffle):
        order = from_numpy(_random._index_order(self.n)) if shuffle else None
        for step in range(self.steps):
            yield order, step * self.batch_size, min(self.n, (step + 1) * self.batch_size)

    def exhausted(self):
        return False


class _PipelineFeed:
    """Batches from a generator or PyDataset (Note [Data pipelines]), each prepared as arrays."""

    def __init__(self, model, mode, pipeline, op, class_weight=None):
        self.model, self.mode, self.pipeline, self.op, self.class_weight = model, mode, pipeline, op, class_weight
        self.steps, self.runner = pipeline.steps, None

    def batches(self, shuffle):
        op = self.op
        for batch in self.pipeline.epoch(shuffle):
            x, y, w = _data.unpack(batch, op)
            if self.mode == "predict":
                xs, y, sw = _prepare_inputs(x, op), None, None
            else:
                if y is None:
                    raise ValueError(f"{op}: a batch must carry its targets: (x, y) or (x, y, sample_weight)")
                xs, y = _prepare(_flat_inputs(x, op), y, op, self.model)
                sw = _sample_weights(y, w, self.class_weight, op)
            if self.runner is None:
                self.runner = _StepRunner(self.model, self.mode, xs, y, sw)
            else:
                self.runner.use(xs, y, sw, op)
            yield None, 0, _length(xs[0])

    def exhausted(self):
        return self.pipeline.exhausted()


def _feed(model, mode, x, y, sample_weight, class_weight, batch_size, steps, op):
    """The batches of x for fit / evaluate / predict: arrays or a pipeline."""
    pipeline = _data.adapt(x, op, steps)
    if pipeline is None:
        if mode == "predict":
            return _ArrayFeed(model, mode, _prepare_inputs(x, op), None, None, batch_size)
        xs, y = _prepare(_flat_inputs(x, op), y, op, model)
        return _ArrayFeed(model, mode, xs, y, _sample_weights(y, sample_weight, class_weight, op), batch_size)
    if y is not None or sample_weight is not None:
        raise ValueError(f"{op}: y and sample_weight must not be given when x is a generator or a PyDataset: "
                         f"its batches carry them")
    return _PipelineFeed(model, mode, pipeline, op, class_weight)


# ---------------------------------------------------------------- steps (Note [Training step])

def _update_metric(m, y, y_pred, sample_weight):
    if sample_weight is None:
        m.update_state(y, y_pred)
    else:
        m.update_state(y, y_pred, sample_weight=sample_weight)


def _update_metric_of(model, m, y, y_pred, sample_weight):
    """A compiled metric's update: with several outputs, on its output's targets and predictions,
    given the sample weights only when it is one of weighted_metrics (as Keras 3)."""
    slots = getattr(model, "_metric_slots", None) if getattr(model, "_outputs_spec", None) is not None else None
    if slots is None:
        return _update_metric(m, y, y_pred, sample_weight)
    i, weighted = slots[id(m)]
    _update_metric(m, y[i], y_pred[i], sample_weight if weighted else None)


def _one_loss(loss_fn, y, y_pred, sample_weight):
    """One loss function on one output, reduced to a scalar (Note [Loss reduction])."""
    if sample_weight is None:
        value = loss_fn(y, y_pred)
    elif isinstance(loss_fn, _losses.Loss):
        value = loss_fn(y, y_pred, sample_weight)
    else:  # a plain function: its values weighted and averaged, as Keras' LossFunctionWrapper
        value = _losses.reduce_weighted_values(loss_fn(y, y_pred), sample_weight, op="loss")
    if not isinstance(value, Tensor):  # a plain function may return a number or an array (Keras converts it)
        try:
            value = tensor(value, dtype=None)
        except (TypeError, ValueError, OverflowError) as e:
            raise TypeError(f"compute_loss: the loss function must return a tensor or numbers, got "
                            f"{type(value).__name__} ({e})") from None
    return value if value.ndim == 0 else value.mean()


_MAX_PLANS = 32  # signatures a model keeps plans for


class _PlanEntry:
    """What the runner knows about one batch signature: how often it ran, and its plan or why
    there is none."""

    __slots__ = ("seen", "plan", "reason", "eager_metrics")

    def __init__(self):
        self.seen, self.plan, self.reason, self.eager_metrics = 0, None, None, []


class _StepRunner:
    """The steps of one fit / evaluate / predict call over prepared arrays: the batch rows
    gathered in C++, then the eager step, its capture, or its plan's replay."""

    def __init__(self, model, mode, xs, y, sample_weight=None):
        self.model, self.mode, self.multi = model, mode, len(xs) > 1
        self.n_x, self.weighted, self.signature = len(xs), sample_weight is not None, None
        self.multi_y, self.n_y = isinstance(y, list), None
        self.use(xs, y, sample_weight, mode)
        self.enabled = not model.run_eagerly and model.jit_compile is not False
        if "_plans" not in model.__dict__:
            model._plans = {}
        self.plans = model._plans
        metrics = [] if mode == "predict" else [model._loss_tracker, *model.metrics]
        optimizer = model.optimizer if mode == "train" else None
        # Plans hold the model's variables, optimizer and metrics: new ones make new plans.
        self.train_vars = model.trainable_variables if optimizer is not None else []
        self.state_key = (id(optimizer), id(getattr(model, "_loss_fn", None)), tuple(id(m) for m in metrics),
                          tuple(id(v) for v in model.variables), tuple(id(v) for v in self.train_vars))
        self.metrics, self.optimizer = metrics, optimizer

    def use(self, xs, y, sample_weight, op):
        """Points the runner at the arrays of a batch or of all batches (a pipeline's batch after
        the first: Note [Data pipelines]); the plans are per signature: the shapes after the
        first axis and the dtypes, with the batch's rows."""
        if len(xs) != self.n_x or (sample_weight is not None) != self.weighted:
            raise ValueError(f"{op}: every batch must have the structure of the first ({self.n_x} input(s), "
                             f"{'with' if self.weighted else 'without'} sample weights)")
        ys = [] if y is None else [from_numpy(a) for a in y] if isinstance(y, list) else [from_numpy(y)]
        if self.n_y is None:
            self.n_y = len(ys)
        elif len(ys) != self.n_y:
            raise ValueError(f"{op}: every batch must have the structure of the first ({self.n_y} target array(s))")
        self.sources = ([from_numpy(a) for a in xs] + ys +
                        ([from_numpy(sample_weight)] if self.weighted else []))
        signature = tuple((tuple(t.shape[1:]), t._dtype_code) for t in self.sources)
        if signature != self.signature:  # (the first call: None)
            self.signature, self.last_rows, self.last_entry = signature, None, None

    def _inputs(self, inputs):
        """The batch tensors as (x, y, sample_weight): x a list for several inputs."""
        bx = list(inputs[:self.n_x]) if self.multi else inputs[0]
        if self.mode == "predict":
            by = None
        elif self.multi_y:  # several outputs: one target array each (Note [Several outputs])
            by = list(inputs[self.n_x:self.n_x + self.n_y])
        else:
            by = inputs[self.n_x]
        return bx, by, (inputs[-1] if self.weighted else None)

    def _unit(self, *inputs):
        """One step on the gathered batch: what is captured."""
        model = self.model
        bx, by, bw = self._inputs(inputs)
        if self.mode == "predict":
            with no_grad():
                return model(bx, training=False)
        step = model.train_step if self.mode == "train" else model.test_step
        loss, y_pred = step(bx, by) if bw is None else step(bx, by, bw)
        n = by[0].shape[0] if isinstance(by, list) else by.shape[0]
        return y_pred, by, bw, model._update_metrics(loss, by, y_pred, n, bw)

    def _state(self):
        """Every tensor whose values change between steps: the plan must never bake them in."""
        state = list(self.model.variables)
        if self.optimizer is not None and self.optimizer.built:
            state += self.optimizer.variables
        for m in self.metrics:
            state += [v for v in vars(m).values() if isinstance(v, Tensor)]
        return state

    def step(self, order, start, stop):
        """Runs the step on rows start..stop (through order); returns predict's outputs."""
        rows = stop - start
        if rows == self.last_rows:  # every batch but the last has the same rows
            entry = self.last_entry
        else:
            key = (self.mode, (rows, self.signature), self.state_key)
            entry = self.plans.get(key)
            if entry is None:
                if len(self.plans) >= _MAX_PLANS:  # evaluate / predict at many batch sizes: keep the memory bounded
                    self.plans.clear()
                entry = self.plans[key] = _PlanEntry()
            self.last_rows, self.last_entry = rows, entry
        if entry.plan is not None:
            if self.optimizer is not None:  # as Optimizer.apply refuses, before anything changes
                for v in self.train_vars:
                    if not v.writeable:
                        raise ValueError(f"{type(self.optimizer).__name__}: assignment destination is read-only "
                                         f"(variable {getattr(v, 'name', None)!r})")
            result = entry.plan.run(self.sources, order, start, stop)
            if self.mode == "predict":
                return result
            y_pred, by, bw, _ = result
            if entry.eager_metrics:
                with no_grad():
                    for m in entry.eager_metrics:
                        _update_metric_of(self.model, m, by, y_pred, bw)
            return None
        inputs = [_core._gather(s, order, start, stop) for s in self.sources]
        entry.seen += 1
        if not self.enabled or entry.seen == 1 or entry.reason is not None:
            result = self._unit(*inputs)  # the first step of a signature builds what it needs
            return result if self.mode == "predict" else None
        result, plan, reason = _capture.capture(self._unit, inputs, self._state())
        if plan is None:
            entry.reason = reason
            if self.model.jit_compile is True:
                raise ValueError(f"{self.model.name}: jit_compile=True, but the {self.mode} step cannot be captured: "
                                 f"{reason}. Use jit_compile='auto' to run such steps eagerly")
            warnings.warn(f"{self.model.name}: the {self.mode} step runs eagerly, as it cannot be captured: {reason}",
                          RuntimeWarning, stacklevel=4)
        else:
            entry.plan = plan
            if self.mode != "predict":
                entry.eager_metrics = result[3]
        return result if self.mode == "predict" else None


# ---------------------------------------------------------------- several outputs

# Note [Several outputs]
# A functional model with a list of outputs is compiled per output, as Keras 3's CompileLoss
# and CompileMetrics: each output is named by the layer that makes it; loss, loss_weights,
# metrics and weighted_metrics are a list in the order of the outputs, a dict by those names
# (an output missing from a loss dict has no loss), or (loss only) one loss for all. The
# targets y are a list / tuple in that order or a dict by name, turned into a list at once, so
# the step (and its capture) sees one array per output next to the inputs. The total loss is
# the sum of weight * loss (no multiplication without loss_weights, as Keras); each output's
# unweighted loss has a Mean tracker "<name>_loss" (only when two or more outputs have a
# loss), and each metric is named "<name>_<metric>". The logs list the loss, then the metrics
# output by output (weighted_metrics after metrics), then the per-output losses.

class _OutputSpec:
    __slots__ = ("name", "loss_fn", "weight", "metrics", "weighted_metrics", "tracker")


def _output_names(model):
    specs = getattr(model, "_outputs_spec", None) if model is not None else None
    return None if specs is None else [spec.name for spec in specs]


def _per_output(value, names, what, leaf):
    """value as a list with one entry per output: a list/tuple of len(names), a dict by name
    (missing names None), or, when leaf(value), the same value for every output."""
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"compile: {what} has keys {unknown} that are not output names; the outputs are "
                             f"{names}")
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)) and not leaf(value):
        if len(value) != len(names):
            raise ValueError(f"compile: {what} must have one entry per output {names}, got {len(value)}: {value!r}")
        return list(value)
    if leaf(value):
        return [value] * len(names)
    raise ValueError(f"compile: {what} must be a list with one entry per output {names} or a dict by output "
                     f"name, got {value!r}")


def _compile_outputs(model, loss, loss_weights, metrics, weighted_metrics):
    names = [t.node.layer.name for t in model.outputs]
    if len(set(names)) != len(names):
        raise ValueError(f"compile: {model.name}'s outputs must come from layers with different names, got {names}")
    if loss is None:
        raise ValueError(f"compile: give a loss (a list or dict by output name {names}, or one loss for all)")
    losses = _per_output(loss, names, "loss", lambda v: not isinstance(v, (list, tuple, dict)))
    # Keras also takes an output's loss wrapped in a one-element list: ["mse", ["binary_crossentropy"]].
    losses = [l[0] if isinstance(l, (list, tuple)) and len(l) == 1 else l for l in losses]
    for l in losses:
        if isinstance(l, (list, tuple, dict)):
            raise ValueError(f"compile: each output of {names} takes one loss, got {l!r} in loss={loss!r}")
    if all(l is None for l in losses):
        raise ValueError(f"compile: the loss gives no output of {names} a loss")
    if loss_weights is None:
        weights = [None] * len(names)
    else:
        if not isinstance(loss_weights, (list, tuple, dict)):
            raise ValueError(f"compile: loss_weights must be a list or a dict by output name {names}, got "
                             f"{loss_weights!r}")
        weights = _per_output(loss_weights, names, "loss_weights", lambda v: False)
        if isinstance(loss_weights, dict):
            weights = [1.0 if w is None else w for w in weights]
        for w in weights:
            if isinstance(w, bool) or not isinstance(w, (int, float, np.integer, np.floating)):
                raise ValueError(f"compile: loss_weights must be numbers, got {loss_weights!r}")
        weights = [float(w) for w in weights]

    def per_output_metrics(value, what):
        if not value:
            return [[] for _ in names]
        if isinstance(value, (list, tuple)) and len(value) == len(names):
            entries = list(value)
        elif isinstance(value, dict):
            entries = _per_output(value, names, what, lambda v: False)
        else:
            raise ValueError(f"compile: {what} for a model with outputs {names} must be a list with one entry "
                             f"(a metric or a list of metrics) per output, or a dict by output name; got {value!r}")
        out = []
        for entry in entries:
            if entry is None:
                out.append([])
            elif isinstance(entry, (list, tuple)):
                out.append(list(entry))
            else:
                out.append([entry])
        return out

    metrics_lists = per_output_metrics(metrics, "metrics")
    weighted_lists = per_output_metrics(weighted_metrics, "weighted_metrics")
    seen = set()
    specs = []
    n_losses = sum(l is not None for l in losses)
    for name, l, w, ms, wms in zip(names, losses, weights, metrics_lists, weighted_lists):
        spec = _OutputSpec()
        spec.name, spec.weight = name, w
        spec.loss_fn = None if l is None else _losses.get(l)

        def resolve(m):
            # "accuracy" is resolved by the output's loss (its class's name when given an alias such as "bce")
            obj = _metrics.get(m, loss=spec.loss_fn if isinstance(spec.loss_fn, _losses.Loss) else l)
            if id(obj) in seen:
                raise ValueError(f"compile: the metric object {obj.name!r} is given twice; give each output its own")
            seen.add(id(obj))
            if isinstance(m, str):
                obj.name = m  # Keras names a metric given as a string by that string ("mae", "acc")
            return obj

        spec.metrics = [resolve(m) for m in ms]
        spec.weighted_metrics = [resolve(m) for m in wms]
        spec.tracker = _metrics.Mean(name=f"{name}_loss") if l is not None and n_losses > 1 else None
        specs.append(spec)
    _name_metrics([(spec.name, spec.metrics) for spec in specs], [(spec.name, spec.weighted_metrics) for spec in specs])
    return specs


def _name_metrics(groups, weighted_groups):
    """Keras 3's names (CompileMetrics.result): "<output>_<metric>" (no prefix for a model with
    one output); a repeated name gets "_1", "_2", ...; a weighted metric whose name is taken
    becomes "<output>_weighted_<metric>" (then "_1", ...)."""
    counters = {}
    for weighted, groups_ in ((False, groups), (True, weighted_groups)):
        for output, ms in groups_:
            for m in ms:
                base = m.name
                name = f"{output}_{base}" if output else base
                if name not in counters:
                    counters[name] = 1
                elif not weighted:
                    counters[name] += 1
                    name = f"{name}_{counters[name] - 1}"
                else:
                    name = f"{output}_weighted_{base}" if output else f"weighted_{base}"
                    if name not in counters:
                        counters[name] = 1
                    else:
                        counters[name] += 1
                        name = f"{name}_{counters[name] - 1}"
                m.name = name


def _single_output_entry(value, name, what):
    """A compile argument given as a dict by output name, for a model with one output: the value
    for that output (ValueError for other names)."""
    if not isinstance(value, dict):
        return value
    unknown = [k for k in value if k != name]
    if unknown:
        raise ValueError(f"compile: {what} has keys {unknown} that are not output names; the output is "
                         f"{[name] if name is not None else 'unnamed (not a functional model)'}")
    return value.get(name)


def _prepare_targets(y, names, op):
    """y for a model with the outputs `names`: a list / tuple in their order or a dict by name,
    as a list of arrays (Note [Several outputs])."""
    if isinstance(y, dict):
        unknown = [k for k in y if k not in names]
        missing = [n for n in names if n not in y]
        if unknown or missing:
            raise ValueError(f"{op}: y is a dict whose keys {sorted(map(str, y))} do not match the outputs {names}"
                             + (f" (unknown: {unknown})" if unknown else "")
                             + (f" (missing: {missing})" if missing else ""))
        ys = [y[n] for n in names]
    elif isinstance(y, (list, tuple)) and not _is_nested_numbers(y):
        if len(y) != len(names):
            raise ValueError(f"{op}: the model has {len(names)} outputs {names}; y has {len(y)} entries")
        ys = list(y)
    else:
        raise ValueError(f"{op}: the model has {len(names)} outputs {names}; give y as a list with one array per "
                         f"output or a dict by output name, got {type(y).__name__}")
    return [_prepare_array(a, op, f"y[{n!r}]") for a, n in zip(ys, names)]


def _take(y, index):
    """Rows of the targets: an array, or a list of arrays for several outputs."""
    return [a[index] for a in y] if isinstance(y, list) else y[index]


def _y_length(y):
    return _length(y[0]) if isinstance(y, list) else _length(y)


# ---------------------------------------------------------------- data handling

def _flat(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _flat_inputs(x, op):
    if x is None:
        raise ValueError(f"{op}: x is required")
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _prepare_array(a, op, what):
    """A NumPy array pynn can view: Tensors become views, unsupported dtypes are widened."""
    if isinstance(a, Tensor):
        a = np.asarray(a)
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{op}: {what} must be numeric, got an array of dtype {a.dtype}")
    try:
        as_dtype(a.dtype)
    except TypeError:
        a = a.astype(np.float32 if a.dtype.kind == "f" else np.int64)  # float16, int8, uint16, ...
    if a.ndim == 0:
        raise ValueError(f"{op}: {what} must have a batch axis, got a scalar")
    if not (a.flags.aligned and a.dtype.isnative):
        a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("="))
    return a


def _prepare_inputs(x, op):
    """The model inputs of x (no targets) as arrays of one length."""
    xs = [_prepare_array(a, op, "x") for a in _flat_inputs(x, op)]
    for a in xs[1:]:
        if _length(a) != _length(xs[0]):
            raise ValueError(f"{op}: the inputs have different numbers of samples: {[_length(a) for a in xs]}")
    return xs


def _prepare(xs, y, op, model=None):
    """The inputs and targets as arrays of one length; y a list of arrays, one per output, for a
    model compiled with several outputs (Note [Several outputs])."""
    xs = [_prepare_array(a, op, "x") for a in xs]
    if y is None:
        raise ValueError(f"{op}: y is required (the targets)")
    names = _output_names(model)
    if names is not None:
        ys = _prepare_targets(y, names, op)
        for a, n in zip(ys, names):
            if _length(a) != _length(ys[0]):
                raise ValueError(f"{op}: the targets have different numbers of samples: "
                                 f"{ {n: _length(a) for a, n in zip(ys, names)} }")
        for a in xs:
            if _length(a) != _length(ys[0]):
                raise ValueError(f"{op}: x and y have different numbers of samples: x {a.shape}, y "
                                 f"{[t.shape for t in ys]}")
        if _length(ys[0]) == 0:
            raise ValueError(f"{op}: x and y have no samples")
        return xs, ys
    y = _prepare_array(y, op, "y")
    for a in xs:
        if _length(a) != _length(y):
            raise ValueError(f"{op}: x and y have different numbers of samples: x {a.shape}, y {y.shape}")
    if _length(y) == 0:
        raise ValueError(f"{op}: x and y have no samples")
    return xs, y


def _length(a):
    return a.shape[0]


def _sample_weights(y, sample_weight, class_weight, op):
    """The per-sample weights of (y, sample_weight or class_weight) as a float32 array, or None.
    class_weight maps class indices to weights, applied to integer labels, to the argmax of
    one-hot rows, or to rounded (n, 1) targets, as Keras 3 does."""
    if sample_weight is not None and class_weight is not None:
        raise ValueError(f"{op}: you cannot pass class_weight and sample_weight at the same time")
    if isinstance(y, list):  # several outputs (Note [Several outputs])
        if class_weight is not None:
            raise ValueError(f"{op}: class_weight is only supported for models with a single output, as in Keras")
        if isinstance(sample_weight, dict) or (isinstance(sample_weight, (list, tuple)) and sample_weight
                                               and all(np.ndim(w) >= 1 for w in sample_weight)):
            raise NotImplementedError(f"{op}: sample_weight per output (a list or dict of arrays) is not supported "
                                      f"yet; give one array of per-sample weights, applied to every output")
        if sample_weight is None:
            return None
        sw = _prepare_array(sample_weight, op, "sample_weight")
        if _length(sw) != _y_length(y):
            raise ValueError(f"{op}: sample_weight has {_length(sw)} samples, y has {_y_length(y)}")
        return sw.astype(np.float32) if sw.dtype != np.float32 and sw.dtype != np.float64 else sw
    if class_weight is not None:
        if not hasattr(class_weight, "items") or not hasattr(class_weight, "get"):
            raise ValueError(f"{op}: class_weight must be a dict of class indices to weights, got "
                             f"{type(class_weight).__name__}")
        weights = {}
        for key, value in class_weight.items():
            try:
                weights[int(key)] = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{op}: class_weight must map integer class indices to numbers, got the key "
                                 f"{key!r} -> {value!r}") from None
        labels = y
        if labels.ndim > 1:
            labels = labels.argmax(axis=-1) if labels.shape[-1] != 1 else labels[..., 0]
        if labels.ndim != 1:
            raise ValueError(f"{op}: class_weight needs one class per sample: targets of shape {y.shape} give "
                             f"{labels.shape}")
        labels = np.round(labels).astype(np.int64)
        out = np.ones(len(labels), dtype=np.float32)  # classes without a weight: 1
        for c, value in weights.items():  # a pass per class, not a Python loop per sample
            out[labels == c] = value
        return out
    if sample_weight is None:
        return None
    sw = _prepare_array(sample_weight, op, "sample_weight")
    if _length(sw) != _length(y):
        raise ValueError(f"{op}: sample_weight has {_length(sw)} samples, y has {_length(y)}")
    return sw.astype(np.float32) if sw.dtype != np.float32 and sw.dtype != np.float64 else sw


def _as_loss_tensor(v):
    """A term of Model.losses as a tensor: a custom regularizer may return a Python number."""
    if isinstance(v, Tensor):
        return v
    try:
        return tensor(v, dtype=None)
    except (TypeError, ValueError, OverflowError) as e:
        raise TypeError(f"compute_loss: a term of model.losses must be a tensor or numbers, got "
                        f"{type(v).__name__} ({e})") from None


def _as_tensor(v):
    if isinstance(v, Tensor):
        return v
    return from_numpy(_prepare_array(v, "model", "input"))


def _to_numpy(y):
    if isinstance(y, (list, tuple)):
        return [_to_numpy(v) for v in y]
    return np.array(y, copy=True)


def _validate_now(freq, epoch):
    """Whether fit validates after `epoch` (0-based): every freq epochs, or at the 1-based
    epochs listed, as Keras' validation_freq."""
    if isinstance(freq, int) and not isinstance(freq, bool):
        if freq < 1:
            raise ValueError(f"fit: validation_freq must be a positive int or a list of epochs, got {freq!r}")
        return (epoch + 1) % freq == 0
    try:
        return epoch + 1 in set(freq)
    except TypeError:
        raise ValueError(f"fit: validation_freq must be a positive int or a list of epochs, got {freq!r}") from None


def _check_batch_size(batch_size, op):
    if batch_size is None:
        return 32
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size <= 0:
        raise ValueError(f"{op}: batch_size must be a positive int, got {batch_size!r}")
    return int(batch_size)


def _check_verbose(verbose, op):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"{op}: verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)

