"""Model configs, summary(), and the files of model.save / save_weights / load_model.

Note [Model files]
model.save(path) writes one ZIP archive (members stored, not compressed):
  pynn_model.json  {"format": "pynn.model", "version": 1, "class_name", "config",
                    "build_input_shape", "compile_config", "optimizer_iterations"}
  weights.npz      the weights in `model.weights` order: arrays w0000, w0001, ...
                   and "paths", their names (a string array)
  optimizer.npz    the optimizer's slot variables in `trainable_variables` order
save_weights(path) writes weights.npz's content alone. Every file goes to a
temporary file in the target's directory, is flushed and fsync'ed, then renamed
over the target: a crash leaves the old file or the new one, never half of one.
Loading parses JSON and .npz with allow_pickle=False: nothing in a file is ever
executed. Anything inconsistent (not a zip, a missing member, bad JSON, a
different number or shape of weights) raises ValueError naming the path and
what is wrong; a missing file raises FileNotFoundError naming it.
"""

import io
import json
import os
import tempfile
import zipfile
import zlib

import numpy as np

from . import metrics as _metrics
from . import optimizers as _optimizers
from .autograd import no_grad
from .layers.base import _REGISTRY, shape_str
from .layers.core import InputLayer

FORMAT = "pynn.model"
VERSION = 1
_CONFIG = "pynn_model.json"
_WEIGHTS = "weights.npz"
_OPTIMIZER = "optimizer.npz"

# The permissions an ordinary open() would give (mkstemp makes 0600 files).
_UMASK = os.umask(0)
os.umask(_UMASK)


class _Corrupt(Exception):
    """Raised inside the readers; turned into ValueError naming the path at the boundary."""


# ---------------------------------------------------------------- writing

def atomic_write(path, write):
    """Calls write(f) on a temporary file next to `path`, then renames it over `path`."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _npz_bytes(arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _weight_arrays(model):
    variables = model.weights
    arrays = {f"w{i:04d}": np.asarray(v) for i, v in enumerate(variables)}
    arrays["paths"] = np.array([getattr(v, "path", v.name or f"variable_{i}") for i, v in enumerate(variables)],
                               dtype=np.str_)
    return arrays


def save_weights(model, filepath):
    _check_built(model, "save_weights")
    data = _npz_bytes(_weight_arrays(model))
    atomic_write(filepath, lambda f: f.write(data))


def save_model(model, filepath):
    _check_built(model, "save")
    config = {
        "format": FORMAT, "version": VERSION, "class_name": type(model).__name__, "config": model.get_config(),
        "build_input_shape": _jsonable_shape(model._build_input_shape),
        "compile_config": _compile_config(model), "optimizer_iterations": 0,
    }
    members = {_WEIGHTS: _npz_bytes(_weight_arrays(model))}
    opt = model.optimizer if model.compiled else None
    if opt is not None and opt.built:
        config["optimizer_iterations"] = opt.iterations
        slots = [s for v in model.trainable_variables if id(v) in opt._slots for s in opt._slots_of(v)]
        members[_OPTIMIZER] = _npz_bytes({f"o{i:04d}": np.asarray(s) for i, s in enumerate(slots)})
    text = json.dumps(config, indent=1).encode()

    def write(f):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr(_CONFIG, text)
            for name, data in members.items():
                zf.writestr(name, data)

    atomic_write(filepath, write)


def _check_built(model, op):
    if not model.built or (not model.weights and model._layers and not all(l.built for l in model._layers)):
        raise ValueError(f"{model.name}.{op}: the model has no weights yet; build it first (give an Input, call it "
                         f"on data, or fit it)")


def _jsonable_shape(shape):
    if shape is None:
        return None
    if isinstance(shape, list):
        return [list(s) for s in shape]
    return list(shape)


def _compile_config(model):
    """What compile() was given, when every part has a name (else None: load_model returns the
    model uncompiled)."""
    if not model.compiled:
        return None
    args = model._compile_args
    opt = model.optimizer
    loss = args["loss"]
    if not isinstance(loss, str):
        if not isinstance(loss, type(model._loss_fn)) or not hasattr(loss, "get_config"):
            return None
        loss = {"class_name": type(loss).__name__, "config": loss.get_config()}
    metrics = []
    for m in args["metrics"]:
        if isinstance(m, str):
            metrics.append(m)
        elif isinstance(m, _metrics.Metric) and hasattr(_metrics, type(m).__name__):
            metrics.append({"class_name": type(m).__name__, "config": m.get_config()})
        else:
            return None
    return {"optimizer": {"class_name": type(opt).__name__, "config": opt.get_config()}, "loss": loss,
            "metrics": metrics}


# ---------------------------------------------------------------- configs

def _serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def _deserialize(entry, custom_objects, where):
    from .models import Model

    if not isinstance(entry, dict) or "class_name" not in entry or "config" not in entry:
        raise _Corrupt(f"{where}: a layer entry must have class_name and config")
    name = entry["class_name"]
    cls = (custom_objects or {}).get(name) or _REGISTRY.get(name)
    if cls is None:
        raise _Corrupt(f"{where}: unknown layer class {name!r}; pass it in custom_objects={{{name!r}: cls}} or "
                       f"decorate the class with pynn.layers.register")
    if isinstance(cls, type) and issubclass(cls, Model):
        return cls.from_config(entry["config"], custom_objects)
    return cls.from_config(entry["config"])


def sequential_config(model):
    layers = ([_serialize(model._input_layer)] if model._input_layer is not None else []) + [
        _serialize(l) for l in model._layers]
    return {"name": model.name, "trainable": model.trainable, "layers": layers}


def sequential_from_config(cls, config, custom_objects=None):
    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    for i, entry in enumerate(config.get("layers", [])):
        model.add(_deserialize(entry, custom_objects, f"layer {i}"))
    return model


def functional_config(model):
    inputs, outputs, nodes = model._graph
    names = [l.name for l in model._layers]
    if len(set(names)) != len(names):
        raise ValueError(f"{model.name}: layer names must be unique to save the model, got {names}")
    node_index, counts = {}, {}
    for node in nodes:
        node_index[id(node)] = counts.get(id(node.layer), 0)
        counts[id(node.layer)] = node_index[id(node)] + 1

    def ref(t):
        outs = t.node.outputs if isinstance(t.node.outputs, list) else [t.node.outputs]
        return [t.node.layer.name, node_index[id(t.node)], next(i for i, o in enumerate(outs) if o is t)]

    return {
        "name": model.name, "trainable": model.trainable,
        "layers": [_serialize(l) for l in model._layers],
        "nodes": [{"layer": n.layer.name, "args": [ref(a) for a in n.inputs],
                   "is_list": isinstance(n.args, (list, tuple))} for n in nodes if not isinstance(n.layer, InputLayer)],
        "inputs": [ref(t) for t in model.inputs], "inputs_is_list": isinstance(inputs, (list, tuple)),
        "outputs": [ref(t) for t in model.outputs], "outputs_is_list": isinstance(outputs, (list, tuple)),
    }


def functional_from_config(cls, config, custom_objects=None):
    if "nodes" not in config:  # a subclassed model's own config: its constructor's arguments
        return cls(**config)
    layers = {}
    produced = {}  # (layer name, node index) -> outputs
    for i, entry in enumerate(config["layers"]):
        layer = _deserialize(entry, custom_objects, f"layer {i}")
        layers[layer.name] = layer
        if isinstance(layer, InputLayer):
            produced[(layer.name, 0)] = layer.output
    calls = {}

    def tensor(ref):
        name, node, index = ref
        out = produced.get((name, node))
        if out is None:
            raise _Corrupt(f"the graph refers to node {node} of layer {name!r}, which is not defined before its use")
        return out[index] if isinstance(out, list) else out

    for node in config["nodes"]:
        layer = layers.get(node["layer"])
        if layer is None:
            raise _Corrupt(f"the graph calls an unknown layer {node['layer']!r}")
        args = [tensor(r) for r in node["args"]]
        k = calls.get(layer.name, 0)
        calls[layer.name] = k + 1
        produced[(layer.name, k)] = layer(args if node["is_list"] else args[0])
    inputs = [tensor(r) for r in config["inputs"]]
    outputs = [tensor(r) for r in config["outputs"]]
    return cls(inputs=inputs if config["inputs_is_list"] else inputs[0],
               outputs=outputs if config["outputs_is_list"] else outputs[0], name=config.get("name"))


# ---------------------------------------------------------------- loading

def _read_zip(path):
    """The members of a zip file as bytes, by name."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such file")
    try:
        with zipfile.ZipFile(path) as zf:
            return {name: zf.read(name) for name in zf.namelist()}
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as e:
        raise ValueError(f"{path}: not a pynn model or weights file, or a damaged one (truncated or corrupt zip "
                         f"archive: {e})") from None


def _load_npz(data, what):
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise _Corrupt(f"{what} is damaged ({e})") from None


def _assign_weights(model, arrays, what):
    variables = model.weights
    count = sum(1 for k in arrays if k.startswith("w") and k[1:].isdigit())
    if count != len(variables):
        raise _Corrupt(f"{what} holds {count} weights, the model has {len(variables)} "
                       f"({[getattr(v, 'path', v.name) for v in variables]})")
    paths = arrays.get("paths")
    for i, v in enumerate(variables):
        a = arrays.get(f"w{i:04d}")
        name = str(paths[i]) if paths is not None and i < len(paths) else f"weight {i}"
        if a is None:
            raise _Corrupt(f"{what} lacks weight {i} ({name})")
        if tuple(a.shape) != tuple(v.shape):
            raise _Corrupt(f"{what}: weight {i} ({name}) has shape {tuple(a.shape)}, the model's "
                           f"{getattr(v, 'path', v.name)} has shape {tuple(v.shape)}")
        if a.dtype.kind != "f":
            raise _Corrupt(f"{what}: weight {i} ({name}) has dtype {a.dtype}, expected floats")
    with no_grad():
        for i, v in enumerate(variables):
            v.assign(np.ascontiguousarray(arrays[f"w{i:04d}"], dtype=v.dtype.dtype))


def load_weights(model, filepath):
    members = _read_zip(filepath)
    try:
        if _WEIGHTS in members:  # a model.save() file
            arrays = _load_npz(members[_WEIGHTS], _WEIGHTS)
        else:
            arrays = _load_npz(_rezip(members), "the weights file")
        _check_built(model, "load_weights")
        _assign_weights(model, arrays, "the file")
    except _Corrupt as e:
        raise ValueError(f"{os.fspath(filepath)}: {e}") from None


def _rezip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def load_model(filepath, custom_objects=None, compile=True):
    members = _read_zip(filepath)
    try:
        return _load_model(members, custom_objects, compile)
    except _Corrupt as e:
        raise ValueError(f"{os.fspath(filepath)}: {e}") from None


def _load_model(members, custom_objects, compile):
    if _CONFIG not in members or _WEIGHTS not in members:
        raise _Corrupt(f"not a pynn model file (it lacks {_CONFIG} or {_WEIGHTS}; a weights file loads with "
                       f"model.load_weights)")
    try:
        config = json.loads(members[_CONFIG].decode())
    except ValueError as e:
        raise _Corrupt(f"{_CONFIG} is not valid JSON ({e})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise _Corrupt(f"{_CONFIG} does not describe a pynn model")
    if config.get("version") != VERSION:
        raise _Corrupt(f"format version {config.get('version')!r}; this pynn reads version {VERSION}")
    try:
        model = _deserialize(config, custom_objects, "the model")
    except (TypeError, ValueError, KeyError) as e:
        raise _Corrupt(f"the model config cannot be rebuilt ({type(e).__name__}: {e})") from None
    if not model.built or not model.weights:
        shape = config.get("build_input_shape")
        if shape is not None:
            _build_by_calling(model, shape)
    _assign_weights(model, _load_npz(members[_WEIGHTS], _WEIGHTS), _WEIGHTS)
    cc = config.get("compile_config")
    if compile and cc:
        _compile_from_config(model, cc)
        if _OPTIMIZER in members:
            _restore_optimizer(model, _load_npz(members[_OPTIMIZER], _OPTIMIZER), config)
    return model


def _build_by_calling(model, shape):
    from .tensor import zeros

    if shape and isinstance(shape[0], list):
        dummy = [zeros(tuple(1 if d is None else d for d in s)) for s in shape]
    else:
        dummy = zeros(tuple(1 if d is None else d for d in shape))
    with no_grad():
        model(dummy, training=False)


def _compile_from_config(model, cc):
    try:
        opt = cc["optimizer"]
        cls = getattr(_optimizers, opt["class_name"], None)
        if not (isinstance(cls, type) and issubclass(cls, _optimizers.Optimizer)):
            raise _Corrupt(f"unknown optimizer {opt['class_name']!r}")
        optimizer = cls.from_config(opt["config"])
        loss = cc["loss"]
        if isinstance(loss, dict):
            from . import losses as _losses

            lcls = getattr(_losses, loss["class_name"], None)
            if not (isinstance(lcls, type) and issubclass(lcls, _losses.Loss)):
                raise _Corrupt(f"unknown loss {loss['class_name']!r}")
            loss = lcls.from_config(loss["config"])
        metrics = []
        for m in cc["metrics"]:
            if isinstance(m, dict):
                mcls = getattr(_metrics, m["class_name"], None)
                if not (isinstance(mcls, type) and issubclass(mcls, _metrics.Metric)):
                    raise _Corrupt(f"unknown metric {m['class_name']!r}")
                m = mcls(**m["config"])
            metrics.append(m)
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    except (KeyError, TypeError, ValueError) as e:
        raise _Corrupt(f"the compile settings cannot be restored ({type(e).__name__}: {e})") from None


def _restore_optimizer(model, arrays, config):
    opt = model.optimizer
    variables = model.trainable_variables
    opt.build(variables)
    slots = [s for v in variables for s in opt._slots_of(v)]
    if len(arrays) != len(slots):
        raise _Corrupt(f"{_OPTIMIZER} holds {len(arrays)} slot variables, the optimizer has {len(slots)}")
    for i, s in enumerate(slots):
        a = arrays.get(f"o{i:04d}")
        if a is None or tuple(a.shape) != tuple(s.shape):
            raise _Corrupt(f"{_OPTIMIZER}: slot {i} is missing or has the wrong shape")
    with no_grad():
        for i, s in enumerate(slots):
            s[...] = np.ascontiguousarray(arrays[f"o{i:04d}"], dtype=s.dtype.dtype)
    opt.iterations = int(config.get("optimizer_iterations", 0))


# ---------------------------------------------------------------- summary

def _human_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024


def _count(variables):
    return sum(v.size for v in variables), sum(v.size * v.dtype.itemsize for v in variables)


def summary_lines(model, line_length=None):
    """Keras 3's summary table: one row per layer (name, type, output shape, parameters)."""
    from .models import Sequential

    rows = []
    layers = model._layers if not isinstance(model, Sequential) else model.layers
    for layer in layers:
        shape = layer.output_shape
        if shape is None:
            shape_text = "?"
        elif isinstance(shape, list):
            shape_text = ", ".join(shape_str(s) for s in shape)
        else:
            shape_text = shape_str(shape)
        built = layer.built or isinstance(layer, InputLayer)
        params = f"{layer.count_params():,}" if built else "0 (unbuilt)"
        rows.append((f"{layer.name} ({type(layer).__name__})", shape_text, params))
    headers = ("Layer (type)", "Output Shape", "Param #")
    widths = [max(31, *(len(r[0]) for r in rows)) if rows else 31, 22, 13]
    widths[1] = max([widths[1]] + [len(r[1]) for r in rows])
    if line_length:
        widths[0] = max(widths[0], line_length - widths[1] - widths[2] - 10)

    def line(left, fill, mid, right):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def cells(values, edge):
        texts = [values[0].ljust(widths[0]), values[1].ljust(widths[1]), values[2].rjust(widths[2])]
        return edge + edge.join(f" {t} " for t in texts) + edge

    out = [f'Model: "{model.name}"', line("┏", "━", "┳", "┓"), cells(headers, "┃"), line("┡", "━", "╇", "┩")]
    for i, r in enumerate(rows):
        out.append(cells(r, "│"))
        out.append(line("├", "─", "┼", "┤") if i < len(rows) - 1 else line("└", "─", "┴", "┘"))
    if not rows:
        out.append(line("└", "─", "┴", "┘"))
    total = _count(model.weights)
    trainable = _count(model.trainable_weights)
    frozen = _count(model.non_trainable_weights)
    out.append(f" Total params: {total[0]:,} ({_human_bytes(total[1])})")
    out.append(f" Trainable params: {trainable[0]:,} ({_human_bytes(trainable[1])})")
    out.append(f" Non-trainable params: {frozen[0]:,} ({_human_bytes(frozen[1])})")
    opt = getattr(model, "optimizer", None)
    if opt is not None and opt.built and opt.variables():
        slots = _count(opt.variables())
        out.append(f" Optimizer params: {slots[0]:,} ({_human_bytes(slots[1])})")
    return out

