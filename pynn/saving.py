"""Model configs, summary(), and the files of model.save / save_weights / load_model.

Note [Model files]
model.save(path) writes one ZIP archive (members stored, not compressed):
  pynn_model.json  {"format": "pynn.model", "version": 1, "class_name", "config",
                    "build_input_shape", "compile_config", "optimizer_iterations"}
  weights.npz      the weights in `model.weights` order: arrays w0000, w0001, ...
                   and "paths", their names (a string array)
  optimizer.npz    the optimizer's slot variables in `trainable_variables` order
save_weights(path) writes weights.npz's content alone. Every file goes to a
temporary file `.<target name>.pynn-tmp-<pid>-<random>` in the target's
directory (created with mode 0o666, so the umask of the moment applies as to
any new file), is flushed and fsync'ed, renamed over the target, and the
directory is fsync'ed: a crash leaves the old file or the new one, never half of
one. A save killed before its rename leaves its temporary; the next save to the
same target removes those of that exact pattern whose process is gone. An
OSError (ENOSPC, EACCES, a missing directory) keeps its class and errno and
names the target.
Loading trusts nothing in the file (Note [Untrusted model files]): nothing in
it is ever executed, and anything inconsistent or too large raises ValueError
naming the path and what is wrong; a missing file raises FileNotFoundError and
a directory IsADirectoryError, naming it.
"""

import contextvars
import errno
import io
import json
import math
import os
import re
import secrets
import stat
import struct
import zipfile
import zlib

import numpy as np

from . import metrics as _metrics
from . import optimizers as _optimizers
from . import regularizers
from .autograd import no_grad
from .dtypes import as_dtype
from .layers.base import _REGISTRY, shape_str
from .layers.core import InputLayer

FORMAT = "pynn.model"
VERSION = 1
_CONFIG = "pynn_model.json"
_WEIGHTS = "weights.npz"
_OPTIMIZER = "optimizer.npz"

class _Corrupt(Exception):
    """Raised inside the readers; turned into ValueError naming the path at the boundary."""


# ---------------------------------------------------------------- writing

def _tmp_pattern(name):
    """The temporary files atomic_write makes for a target named `name` (Note [Model files])."""
    return re.compile(r"\." + re.escape(name) + r"\.pynn-tmp-(\d+)-[0-9a-f]{16}\Z")


def _pid_alive(pid):
    if pid <= 0 or os.name != "posix":
        return True  # not ours to judge (on Windows, os.kill(pid, 0) would send CTRL_C_EVENT)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, another user's
        return True
    return True


def _remove_stale_temporaries(directory, name):
    """Removes what a save killed midway left for this target: files of our exact pattern whose
    process is gone. Anything else (another name, a live writer) is left alone."""
    pattern = _tmp_pattern(name)
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        m = pattern.match(entry)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            try:
                os.unlink(os.path.join(directory, entry))
            except OSError:
                pass


def _fsync_directory(directory):
    """Makes the rename itself durable. Filesystems that cannot sync a directory are skipped."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF, errno.EROFS):
            raise
    finally:
        os.close(fd)


def _naming(e, op, path):
    """The same OSError subclass, its message naming the target."""
    if e.errno is None:
        return type(e)(f"{op}: cannot write {path}: {e}")
    return type(e)(e.errno, f"{op}: {e.strerror}", path)


def atomic_write(path, write, op="save"):
    """Calls write(f) on a temporary file next to `path`, then renames it over `path`
    (Note [Model files]): a crash leaves the old file or the new one, never half of one."""
    path = os.fspath(path)
    directory, name = os.path.split(os.path.abspath(path))
    _remove_stale_temporaries(directory, name)
    tmp = os.path.join(directory, f".{name}.pynn-tmp-{os.getpid()}-{secrets.token_hex(8)}")
    try:
        # 0o666 as open() gives: the umask applies as to any new file (never changed here)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as e:
        raise _naming(e, op, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_directory(directory)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(e, OSError):
            raise _naming(e, op, path) from None
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
    atomic_write(filepath, lambda f: f.write(data), "save_weights")


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

    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config"), dict):
        raise _Corrupt(f"{where}: a layer entry must be an object with a class_name string and a config object")
    name = entry["class_name"]
    cls = (custom_objects or {}).get(name) or _REGISTRY.get(name)
    if cls is None:
        raise _Corrupt(f"{where}: unknown layer class {name!r}; pass it in custom_objects={{{name!r}: cls}} or "
                       f"decorate the class with pynn.layers.register")
    if isinstance(cls, type) and issubclass(cls, Model):
        layer = cls.from_config(entry["config"], custom_objects)
    else:
        layer = cls.from_config(entry["config"])
    budget = _BUDGET.get()
    if budget is not None:  # loading a file: weights are charged before they are made
        budget.guard(layer)
    return layer


def sequential_config(model):
    layers = ([_serialize(model._input_layer)] if model._input_layer is not None else []) + [
        _serialize(l) for l in model._layers]
    return {"name": model.name, "trainable": model.trainable, "layers": layers}


def sequential_from_config(cls, config, custom_objects=None):
    layers = config.get("layers", [])
    if not isinstance(layers, list):
        raise _Corrupt(f"a Sequential config's layers must be a list, got {type(layers).__name__}")
    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    budget = _BUDGET.get()
    if budget is not None:
        budget.guard(model)
    for i, entry in enumerate(layers):
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
    from .models import Model

    if "nodes" not in config:  # a subclassed model's own config: its constructor's arguments
        if cls.__init__ is Model.__init__:
            raise _Corrupt(f"a functional {cls.__name__} config needs layers, nodes, inputs and outputs")
        return cls(**config)
    for key in ("layers", "nodes", "inputs", "outputs"):
        if not isinstance(config.get(key), list):
            raise _Corrupt(f"a functional model config's {key} must be a list")
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
#
# Note [Untrusted model files]
# A model or weights file may come from anyone, so loading trusts nothing in it and runs nothing
# from it: JSON is parsed as data, .npy headers by a strict pattern (not ast/eval), arrays never
# by pickle, layer classes only from the registry or custom_objects (regularizer and constraint
# classes only from pynn's own or custom_objects). Before anything is
# decompressed or allocated:
#   - the path must be a regular file (a FIFO, a device or a directory is refused, never read);
#   - every zip member must be one the format has, stored or deflated, with declared sizes whose
#     sum stays within the limit: max_bytes, by default the file's own size plus 64 MiB (pynn
#     writes members uncompressed, so its files never come near it; a file another tool
#     compressed hard needs max_bytes raised);
#   - every .npy header must declare a float array (strings for "paths") whose shape times
#     itemsize is exactly its member's size;
#   - every shape number in the config is a non-negative int whose product fits the limit;
#   - while the model is rebuilt, each layer's add_weight first charges the values it wants
#     against those the file stores, and refuses when the config asks for more; the weights are
#     created uninitialized (no random draws), since the file's values replace them all.
# Array data is then read in chunks straight into the weights (load_model), or into arrays of
# the declared size that are assigned once every one has been read and checked (load_weights:
# the model is unchanged when a file is refused). zipfile never returns more than a member's
# declared size, and checks its CRC at the end; a stored .npz member read in place has its CRC
# checked first, in one pass. Every refusal is a ValueError naming the path; an I/O error keeps
# its OSError class and names the path too.

_SLACK = 64 << 20          # what the default limit allows beyond the file's size
_MAX_CONFIG = 16 << 20     # the most bytes of JSON config read
_MAX_DEPTH = 100           # JSON nesting (a nested Sequential takes 4 levels)
_MAX_NPY_HEADER = 1 << 16
_MAX_PATH_CHARS = 4096     # the longest weight name in "paths"
_CHUNK = 1 << 20
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, struct.error, NotImplementedError,
               RuntimeError, OverflowError, ValueError, UnicodeDecodeError)
_WEIGHT_NAME = re.compile(r"w(\d{4,9})\.npy\Z")
_SLOT_NAME = re.compile(r"o(\d{4,9})\.npy\Z")
_NPY_ITEM = r"'(descr|fortran_order|shape)'\s*:\s*('[^']*'|True|False|\((?:\s*\d{1,19}\s*,)*(?:\s*\d{1,19}\s*)?\))"
_NPY_HEADER = re.compile(r"\{\s*(?:%s\s*,\s*)*(?:%s)?\s*\}\s*\Z" % (_NPY_ITEM, _NPY_ITEM))
_NPY_DESCR = re.compile(r"[<>|=]?[fU]\d{1,5}\Z")
_SHAPE_KEYS = ("batch_shape", "input_shape", "shape", "target_shape", "noise_shape")
_SIZE_KEYS = ("units", "input_dim", "batch_size")
_BUDGET = contextvars.ContextVar("pynn_load_budget", default=None)


class _Source:
    """An opened model or weights file: a regular file, its size and the byte limit."""

    def __init__(self, filepath, op, max_bytes):
        self.path = os.fspath(filepath)
        if max_bytes is not None and (not isinstance(max_bytes, int) or isinstance(max_bytes, bool)):
            raise TypeError(f"{op}: max_bytes must be an int or None, got {type(max_bytes).__name__}")
        if max_bytes is not None and max_bytes < 0:
            raise ValueError(f"{op}: max_bytes must be non-negative, got {max_bytes}")
        self.op = op
        self.file = _open_regular(self.path, op)
        self.size = os.fstat(self.file.fileno()).st_size
        self.limit = self.size + _SLACK if max_bytes is None else max_bytes
        self.zip = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.zip is not None:
            self.zip.close()
        self.file.close()

    def corrupt(self, message):
        return ValueError(f"{self.path}: {message}")


def _open_regular(path, op):
    """A regular file opened for reading, without ever blocking on a FIFO or reading a device."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise type(e)(e.errno, f"{op}: {e.strerror}", path) from None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, f"{op}: is a directory, not a model or weights file", path)
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{path}: {op}: not a regular file (a FIFO, socket or device); refused")
    try:  # O_NONBLOCK: were the path swapped for a FIFO now, open would not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
                     | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise type(e)(e.errno, f"{op}: {e.strerror}", path) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError(f"{path}: {op}: not a regular file (a FIFO, socket or device); refused")
    return os.fdopen(fd, "rb")


def _pread(f, n, at):
    """n bytes of file f at offset `at`, leaving its position alone where the OS can."""
    if hasattr(os, "pread"):
        return os.pread(f.fileno(), n, at)
    f.seek(at)  # zipfile seeks before each read of its own, so this is safe too
    return f.read(n)


class _Window(io.RawIOBase):
    """Bytes [start, start + length) of a file as a file of their own (a stored member read
    in place, with real seeks)."""

    def __init__(self, f, start, length):
        super().__init__()
        self._f, self._start, self._length, self._pos = f, start, length, 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._pos

    def seek(self, offset, whence=0):
        pos = offset + (0, self._pos, self._length)[whence]
        if pos < 0:
            raise OSError(errno.EINVAL, "Invalid argument")
        self._pos = pos
        return pos

    def read(self, n=-1):
        left = max(0, self._length - self._pos)
        n = left if n is None or n < 0 else min(n, left)
        data = _pread(self._f, n, self._start + self._pos) if n else b""
        self._pos += len(data)
        return data

    def readinto(self, b):
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)


class _zip_errors:
    """Turns what zipfile and zlib raise on damaged data into _Corrupt (an I/O error stays one)."""

    def __init__(self, what):
        self.what = what

    def __enter__(self):
        return self

    def __exit__(self, kind, e, tb):
        if kind is None or issubclass(kind, _Corrupt):
            return False
        if issubclass(kind, _ZIP_ERRORS) or (issubclass(kind, OSError) and e.errno in (errno.EINVAL, None)):
            raise _Corrupt(f"{self.what} is damaged (truncated or corrupt: {type(e).__name__}: {e})") from None
        return False


class _io_errors:
    """An OSError while reading (EIO) keeps its class and errno and names the path."""

    def __init__(self, src):
        self.src = src

    def __enter__(self):
        return self

    def __exit__(self, kind, e, tb):
        if kind is not None and issubclass(kind, OSError) and e.filename is None and e.errno is not None:
            raise type(e)(e.errno, f"{self.src.op}: {e.strerror}", self.src.path) from e
        return False


def _open_zip(fileobj, what):
    try:
        with _zip_errors(what):
            return zipfile.ZipFile(fileobj)
    except _Corrupt as e:
        if what != "the file":
            raise
        detail = str(e)[str(e).index("(") + 1:-1]
        raise _Corrupt(f"not a pynn model or weights file, or a damaged one ({detail})") from None


def _members(zf, what, known, limit):
    """zf's members by name, after checking each is one the format has and that their declared
    sizes fit the limit. `known` is a set of names or a compiled pattern."""
    infos = {}
    total = 0
    for info in zf.infolist():
        name = info.filename
        ok = name in known if isinstance(known, (set, frozenset)) else known.match(name) is not None
        if not ok:
            raise _Corrupt(f"{what} holds a member {name!r} that the format does not have")
        if name in infos:
            raise _Corrupt(f"{what} holds the member {name!r} twice")
        if info.flag_bits & 1:
            raise _Corrupt(f"{what}: member {name!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _Corrupt(f"{what}: member {name!r} is compressed with method {info.compress_type} (pynn reads "
                           f"stored or deflated members)")
        total += info.file_size
        infos[name] = info
    if total > limit:
        raise _Corrupt(f"{what} declares {total:,} bytes of data, more than the limit of {limit:,} bytes (by default "
                       f"the file's size plus {_SLACK >> 20} MiB; pass max_bytes= to load a larger file you trust)")
    return infos


def _read_member(zf, info, what, limit):
    """A small member's bytes (the JSON config)."""
    if info.file_size > limit:
        raise _Corrupt(f"{what} is {info.file_size:,} bytes, more than the {limit:,} read")
    with _zip_errors(what), zf.open(info) as f:
        data = f.read(info.file_size)
        if len(data) != info.file_size or f.read(1):
            raise _Corrupt(f"{what} is truncated")
    return data


def _member_file(src, zf, info, what):
    """A nested .npz member as a seekable file: read in place when stored, else decompressed."""
    if info.compress_type == zipfile.ZIP_STORED:
        if not 0 <= info.header_offset <= src.size - 30:
            raise _Corrupt(f"{what}: its zip entry points outside the file")
        header = _pread(src.file, 30, info.header_offset)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise _Corrupt(f"{what}: its local zip header is damaged")
        start = info.header_offset + 30 + int.from_bytes(header[26:28], "little") + \
            int.from_bytes(header[28:30], "little")
        if info.compress_size != info.file_size or start + info.file_size > src.size:
            raise _Corrupt(f"{what} is truncated or its zip entry is damaged")
        crc = 0  # read in place, so its CRC is checked here, in one pass of constant memory
        for at in range(start, start + info.file_size, _CHUNK):
            crc = zlib.crc32(_pread(src.file, min(_CHUNK, start + info.file_size - at), at), crc)
        if crc != info.CRC:
            raise _Corrupt(f"{what} is damaged (Bad CRC-32)")
        return _Window(src.file, start, info.file_size)
    with _zip_errors(what):
        return zf.open(info)


# ------------------------------------------------ .npy arrays

class _Array:
    """A .npy member's header: where its data starts and what it declares."""

    def __init__(self, info, dtype, shape, fortran, offset):
        self.info, self.dtype, self.shape, self.fortran, self.offset = info, dtype, shape, fortran, offset
        self.count = math.prod(shape)


def _npy_header(zf, info, what):
    with _zip_errors(what), zf.open(info) as f:
        head = f.read(10)
        if len(head) != 10 or head[:6] != b"\x93NUMPY" or head[6] not in (1, 2, 3):
            raise _Corrupt(f"{what} is not a .npy array")
        if head[6] == 1:
            size, offset = int.from_bytes(head[8:10], "little"), 10
        else:
            more = f.read(2)
            size, offset = int.from_bytes(head[8:10] + more, "little"), 12
        if size > _MAX_NPY_HEADER:
            raise _Corrupt(f"{what}: its .npy header declares {size:,} bytes")
        text = f.read(size)
    if len(text) != size:
        raise _Corrupt(f"{what}: its .npy header is truncated")
    try:
        text = text.decode("utf-8" if head[6] == 3 else "latin-1")
    except UnicodeDecodeError:
        raise _Corrupt(f"{what}: its .npy header is not text") from None
    if not _NPY_HEADER.match(text):
        raise _Corrupt(f"{what}: its .npy header is not one numpy writes ({text[:80]!r})")
    items = re.findall(_NPY_ITEM, text)
    fields = dict(items)
    if len(fields) != 3 or len(items) != 3:
        raise _Corrupt(f"{what}: its .npy header needs descr, fortran_order and shape once each")
    descr = fields["descr"].strip("'")
    if not _NPY_DESCR.match(descr) or fields["descr"][0] != "'" or fields["fortran_order"] not in ("True", "False") \
            or fields["shape"][0] != "(":
        raise _Corrupt(f"{what}: its .npy header declares {text.strip()!r}, not a float or string array")
    try:
        dtype = np.dtype(descr)
    except TypeError:
        raise _Corrupt(f"{what}: its .npy header declares an unknown dtype {descr!r}") from None
    if dtype.itemsize == 0 or (dtype.kind == "f" and dtype.itemsize not in (2, 4, 8)):
        raise _Corrupt(f"{what}: unsupported dtype {descr!r}")
    shape = tuple(int(d) for d in re.findall(r"\d+", fields["shape"]))
    array = _Array(info, dtype, shape, fields["fortran_order"] == "True", offset + size)
    if array.offset + array.count * dtype.itemsize != info.file_size:
        raise _Corrupt(f"{what}: its header declares shape {shape} of {dtype.str} ({array.count * dtype.itemsize:,} "
                       f"bytes) but the member holds {info.file_size - array.offset:,} bytes")
    return array


def _npz_arrays(src, fileobj, what, pattern, with_paths):
    """The arrays of a nested .npz (headers only): (a list of _Array by index, paths or None, its ZipFile)."""
    zf = _open_zip(fileobj, what)
    known = pattern if not with_paths else re.compile(f"(?:{pattern.pattern[:-2]}|paths\\.npy)\\Z")
    infos = _members(zf, what, known, src.limit)
    arrays = {}
    for name, info in infos.items():
        if name == "paths.npy":
            continue
        a = _npy_header(zf, info, f"{what}/{name}")
        if a.dtype.kind != "f":
            raise _Corrupt(f"{what}/{name} holds {a.dtype}, expected floats")
        arrays[int(pattern.match(name).group(1))] = a
    if sorted(arrays) != list(range(len(arrays))):
        raise _Corrupt(f"{what}: its arrays are not numbered 0 to {len(arrays) - 1} (found {sorted(arrays)[:10]})")
    for name in infos:
        if name != "paths.npy" and name != pattern.pattern[0] + f"{int(pattern.match(name).group(1)):04d}.npy":
            raise _Corrupt(f"{what}: member {name!r} is misnumbered")
    paths = None
    if "paths.npy" in infos:
        p = _npy_header(zf, infos["paths.npy"], f"{what}/paths.npy")
        if p.dtype.kind != "U" or len(p.shape) != 1 or p.shape[0] != len(arrays) \
                or p.dtype.itemsize > 4 * _MAX_PATH_CHARS:
            raise _Corrupt(f"{what}/paths.npy must be a 1-d string array with one name per weight "
                           f"({len(arrays)}), got shape {p.shape} of {p.dtype}")
        paths = _read_array(zf, p, f"{what}/paths.npy")
    return [arrays[i] for i in range(len(arrays))], paths, zf


def _read_chunks(zf, array, what):
    """Yields the array's data in chunks of whole items, checking size and CRC."""
    nbytes = array.count * array.dtype.itemsize
    step = max(1, _CHUNK // array.dtype.itemsize) * array.dtype.itemsize
    with _zip_errors(what), zf.open(array.info) as f:
        if len(f.read(array.offset)) != array.offset:
            raise _Corrupt(f"{what} is truncated")
        done = 0
        while done < nbytes:
            chunk = f.read(min(step, nbytes - done))
            if not chunk or len(chunk) % array.dtype.itemsize:
                raise _Corrupt(f"{what} is truncated")
            done += len(chunk)
            yield chunk
        if f.read(1):  # also makes zipfile check the CRC
            raise _Corrupt(f"{what} holds more data than its header declares")


def _read_array(zf, array, what):
    """The whole array, as a new NumPy array of its declared size."""
    out = np.empty(array.shape[::-1] if array.fortran else array.shape, array.dtype)
    flat = out.reshape(-1).view(np.uint8)
    at = 0
    for chunk in _read_chunks(zf, array, what):
        flat[at:at + len(chunk)] = np.frombuffer(chunk, np.uint8)
        at += len(chunk)
    return out.T if array.fortran else out


def _read_into(zf, array, tensor, what):
    """The array's data written straight into `tensor` (same shape), chunk by chunk."""
    if array.fortran and len(array.shape) > 1:
        with no_grad():
            tensor.assign(np.ascontiguousarray(_read_array(zf, array, what), dtype=tensor.dtype.dtype))
        return
    flat = tensor.reshape(-1)
    at = 0
    with no_grad():
        for chunk in _read_chunks(zf, array, what):
            values = np.frombuffer(chunk, array.dtype).astype(tensor.dtype.dtype, copy=False)
            flat[at:at + len(values)] = values
            at += len(values)


def _weight_name(paths, i):
    return str(paths[i]) if paths is not None else f"weight {i}"


def _check_against(variables, arrays, paths, what, kind="weights"):
    def name(v, i):
        return getattr(v, "path", None) or getattr(v, "name", None) or f"{kind[:-1]} {i}"

    if len(arrays) != len(variables):
        raise _Corrupt(f"{what} holds {len(arrays)} {kind}, the model has {len(variables)} "
                       f"({[name(v, i) for i, v in enumerate(variables)][:20]})")
    for i, (v, a) in enumerate(zip(variables, arrays)):
        if tuple(a.shape) != tuple(v.shape):
            raise _Corrupt(f"{what}: {kind[:-1]} {i} ({_weight_name(paths, i)}) has shape {tuple(a.shape)}, the "
                           f"model's {name(v, i)} has shape {tuple(v.shape)}")


# ------------------------------------------------ the two entry points

def load_weights(model, filepath, max_bytes=None):
    """Weights from save_weights' file or a model.save() file (Note [Untrusted model files])."""
    with _Source(filepath, "load_weights", max_bytes) as src, _io_errors(src):
        try:
            _check_built(model, "load_weights")
            src.zip = _open_zip(src.file, "the file")
            names = {i.filename for i in src.zip.infolist()}
            if _WEIGHTS in names:  # a model.save() file
                infos = _members(src.zip, "the file", {_CONFIG, _WEIGHTS, _OPTIMIZER}, src.limit)
                what = _WEIGHTS
                arrays, paths, zf = _npz_arrays(src, _member_file(src, src.zip, infos[_WEIGHTS], what), what,
                                                _WEIGHT_NAME, True)
            else:
                what = "the file"
                arrays, paths, zf = _npz_arrays(src, src.file, what, _WEIGHT_NAME, True)
            variables = model.weights
            _check_against(variables, arrays, paths, what)
            values = [_read_array(zf, a, f"{what}/w{i:04d}.npy") for i, a in enumerate(arrays)]
        except _Corrupt as e:
            raise src.corrupt(e) from None
    with no_grad():  # every array read and checked: only now is the model changed
        for v, a in zip(variables, values):
            v.assign(np.ascontiguousarray(a, dtype=v.dtype.dtype))


def load_model(filepath, custom_objects=None, compile=True, max_bytes=None):
    with _Source(filepath, "load_model", max_bytes) as src, _io_errors(src):
        try:
            return _load_model(src, custom_objects, compile)
        except _Corrupt as e:
            raise src.corrupt(e) from None


def _load_model(src, custom_objects, compile):
    src.zip = _open_zip(src.file, "the file")
    infos = _members(src.zip, "the file", {_CONFIG, _WEIGHTS, _OPTIMIZER}, src.limit)
    if _CONFIG not in infos or _WEIGHTS not in infos:
        raise _Corrupt(f"not a pynn model file (it lacks {_CONFIG} or {_WEIGHTS}; a weights file loads with "
                       f"model.load_weights)")
    config = _parse_config(_read_member(src.zip, infos[_CONFIG], _CONFIG, min(src.limit, _MAX_CONFIG)))
    arrays, paths, zf = _npz_arrays(src, _member_file(src, src.zip, infos[_WEIGHTS], _WEIGHTS), _WEIGHTS,
                                    _WEIGHT_NAME, True)
    max_items = src.limit // 4  # float32 values the limit holds: no tensor the config implies may exceed it
    _check_config_shapes(config, max_items)
    stored = sum(a.count for a in arrays)
    budget = _Budget(stored, src.limit)
    token = _BUDGET.set(budget)
    objects = regularizers._custom_objects.set(custom_objects)  # custom regularizer / constraint classes
    try:
        model = _rebuild(config, custom_objects)
        if not model.built or not model.weights:
            shape = config.get("build_input_shape")
            if shape is not None:
                _build_by_calling(model, shape)
    finally:
        regularizers._custom_objects.reset(objects)
        _BUDGET.reset(token)
        budget.release()
    variables = model.weights
    _check_against(variables, arrays, paths, _WEIGHTS)
    for i, (v, a) in enumerate(zip(variables, arrays)):
        _read_into(zf, a, v, f"{_WEIGHTS}/w{i:04d}.npy")
    cc = config.get("compile_config")
    if compile and cc:
        _compile_from_config(model, cc)
        if _OPTIMIZER in infos:
            _restore_optimizer(model, src, infos[_OPTIMIZER], config)
    return model


def _parse_config(text):
    try:
        config = json.loads(text.decode("utf-8"))
    except RecursionError:
        raise _Corrupt(f"{_CONFIG} is nested too deeply") from None
    except ValueError as e:
        raise _Corrupt(f"{_CONFIG} is not valid JSON ({e})") from None
    stack = [(config, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise _Corrupt(f"{_CONFIG} is nested more than {_MAX_DEPTH} levels deep")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise _Corrupt(f"{_CONFIG} does not describe a pynn model")
    if config.get("version") != VERSION:
        raise _Corrupt(f"format version {config.get('version')!r}; this pynn reads version {VERSION}")
    if not isinstance(config.get("class_name"), str) or not isinstance(config.get("config"), dict):
        raise _Corrupt(f"{_CONFIG}: class_name must be a string and config an object")
    cc = config.get("compile_config")
    if cc is not None and not isinstance(cc, dict):
        raise _Corrupt(f"{_CONFIG}: compile_config must be an object or null, got {type(cc).__name__}")
    it = config.get("optimizer_iterations", 0)
    if type(it) is not int or not 0 <= it < 2**63:
        raise _Corrupt(f"{_CONFIG}: optimizer_iterations must be a non-negative int, got {it!r}")
    return config


def _check_dims(dims, where, max_items, minus_one=False):
    if type(dims) is int:
        dims = [dims]
    if not isinstance(dims, list):
        raise _Corrupt(f"{where} must be a list of sizes, got {dims!r}")
    size = 1
    for d in dims:
        if d is None or (minus_one and d == -1):
            continue
        if type(d) is not int or d < 0:
            raise _Corrupt(f"{where} must hold non-negative ints (or null), got {dims!r}")
        size *= d
        if size > max_items:
            raise _Corrupt(f"{where} = {dims!r}: {size:,} values or more, beyond the limit of {max_items:,} "
                           f"(pass a larger max_bytes to load a file you trust)")


def _check_config_shapes(config, max_items):
    """Every shape number in the config, before anything is built (Note [Untrusted model files])."""
    shape = config.get("build_input_shape")
    if shape is not None:
        if not isinstance(shape, list):
            raise _Corrupt(f"build_input_shape must be a list, got {shape!r}")
        for s in (shape if shape and isinstance(shape[0], list) else [shape]):
            _check_dims(s, "build_input_shape", max_items)
    stack = [config["config"]]
    while stack:
        value = stack.pop()
        if isinstance(value, list):
            stack.extend(value)
            continue
        if not isinstance(value, dict):
            continue
        for key, v in value.items():
            if key in _SHAPE_KEYS and (type(v) is int or isinstance(v, list)):  # other values: the layer judges
                _check_dims(v, key, max_items, minus_one=key == "target_shape")
            elif key in _SIZE_KEYS and type(v) is int and v > max_items:  # the layer judges the rest
                raise _Corrupt(f"{key} = {v:,} is beyond the limit of {max_items:,} values")
            elif isinstance(v, (dict, list)):
                stack.append(v)


class _Budget:
    """The values the file stores: what the rebuilt layers may create (Note [Untrusted model files])."""

    def __init__(self, items, limit):
        self.items, self.limit, self.used, self.bytes, self.guarded = items, limit, 0, 0, []

    def guard(self, layer):
        """Makes `layer` charge its weights here before creating them (as zeros)."""
        layers, seen = [layer], set()
        while layers:
            l = layers.pop()
            if id(l) in seen or "add_weight" in vars(l):
                continue
            seen.add(id(l))
            object.__setattr__(l, "add_weight", self._charging(l, l.add_weight))
            self.guarded.append(l)
            layers.extend(getattr(l, "_layers", []))

    def _charging(self, layer, add_weight):
        def charged(shape, *args, **kwargs):
            if not isinstance(shape, (list, tuple)) or any(type(d) is not int or d < 0 for d in shape):
                raise _Corrupt(f"{layer.name} asks for a weight of shape {shape!r}")
            items = math.prod(shape)
            dtype = np.dtype(as_dtype(kwargs.get("dtype") or (args[1] if len(args) > 1 else None)
                                      or layer.dtype).dtype)
            self.used += items
            self.bytes += items * dtype.itemsize
            if self.used > self.items or self.bytes > self.limit:
                raise _Corrupt(f"the config makes {layer.name} create a weight of shape {tuple(shape)}: with the "
                               f"weights before it, {self.used:,} values, more than the {self.items:,} the file "
                               f"stores")
            if args:
                args = (_uninitialized,) + args[1:]
            else:
                kwargs["initializer"] = _uninitialized
            return add_weight(shape, *args, **kwargs)

        return charged

    def release(self):
        for l in self.guarded:
            vars(l).pop("add_weight", None)


def _uninitialized(shape, dtype="float32"):
    """The initializer of weights the file's values replace: memory never touched (the Variable's
    own copy is the one allocation that costs), not random draws that are thrown away."""
    from .tensor import empty

    return empty(tuple(shape), dtype)


def _rebuild(config, custom_objects):
    try:
        return _deserialize(config, custom_objects, "the model")
    except _Corrupt:
        raise
    except RecursionError:
        raise _Corrupt("the model config is nested too deeply") from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, NotImplementedError, OverflowError,
            ZeroDivisionError) as e:
        raise _Corrupt(f"the model config cannot be rebuilt ({type(e).__name__}: {e})") from None


def _build_by_calling(model, shape):
    from .tensor import zeros

    try:
        if shape and isinstance(shape[0], list):
            dummy = [zeros(tuple(1 if d is None else d for d in s)) for s in shape]
        else:
            dummy = zeros(tuple(1 if d is None else d for d in shape))
        with no_grad():
            model(dummy, training=False)
    except _Corrupt:
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, NotImplementedError, OverflowError) as e:
        raise _Corrupt(f"the model cannot be built from build_input_shape {shape!r} ({type(e).__name__}: {e})") \
            from None


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
    except _Corrupt:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as e:
        raise _Corrupt(f"the compile settings cannot be restored ({type(e).__name__}: {e})") from None


def _restore_optimizer(model, src, info, config):
    arrays, _, zf = _npz_arrays(src, _member_file(src, src.zip, info, _OPTIMIZER), _OPTIMIZER, _SLOT_NAME, False)
    opt = model.optimizer
    variables = model.trainable_variables
    opt.build(variables)
    slots = [s for v in variables for s in opt._slots_of(v)]
    _check_against(slots, arrays, None, _OPTIMIZER, "slot variables")
    for i, (s, a) in enumerate(zip(slots, arrays)):
        _read_into(zf, a, s, f"{_OPTIMIZER}/o{i:04d}.npy")
    opt.iterations = config.get("optimizer_iterations", 0)


# ---------------------------------------------------------------- JSON architecture

_JSON_MAX_ITEMS = 1 << 28  # the most values one weight a JSON config may ask for (1 GiB of float32)


def model_json_dict(model):
    """model.to_json()'s content: Keras' {"class_name", "config", "build_config"} layout."""
    return {"module": "pynn.models", "class_name": type(model).__name__, "config": model.get_config(),
            "build_config": {"input_shape": _jsonable_shape(model._build_input_shape)}}


def model_from_json(json_string, custom_objects=None):
    """Rebuilds a model from model_json_dict's JSON text (Note [Untrusted model files]: data only)."""
    if isinstance(json_string, (bytes, bytearray)):
        try:
            json_string = json_string.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"model_from_json: the text is not UTF-8 ({e})") from None
    if not isinstance(json_string, str):
        raise TypeError(f"model_from_json: expected a JSON string, got {type(json_string).__name__}")
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"model_from_json: custom_objects must be a dict, got {type(custom_objects).__name__}")
    try:
        try:
            config = json.loads(json_string)
        except RecursionError:
            raise _Corrupt("the JSON is nested too deeply") from None
        except ValueError as e:
            raise _Corrupt(f"not valid JSON ({e})") from None
        stack = [(config, 1)]
        while stack:
            value, depth = stack.pop()
            if depth > _MAX_DEPTH:
                raise _Corrupt(f"the JSON is nested more than {_MAX_DEPTH} levels deep")
            if isinstance(value, dict):
                stack.extend((v, depth + 1) for v in value.values())
            elif isinstance(value, list):
                stack.extend((v, depth + 1) for v in value)
        if not isinstance(config, dict) or not isinstance(config.get("class_name"), str) \
                or not isinstance(config.get("config"), dict):
            raise _Corrupt("expected a JSON object with a class_name string and a config object, as model.to_json() "
                           "writes")
        build = config.get("build_config")
        shape = build.get("input_shape") if isinstance(build, dict) else None
        _check_config_shapes({"config": config["config"], "build_input_shape": shape}, _JSON_MAX_ITEMS)
        objects = regularizers._custom_objects.set(custom_objects)
        try:
            model = _rebuild({"class_name": config["class_name"], "config": config["config"]}, custom_objects)
            from .models import Model

            if not isinstance(model, Model):
                raise _Corrupt(f"class {config['class_name']!r} is a layer, not a model")
            if (not model.built or not model.weights) and shape is not None:
                _build_by_calling(model, shape)
        finally:
            regularizers._custom_objects.reset(objects)
    except _Corrupt as e:
        raise ValueError(f"model_from_json: {e}") from None
    return model


# ---------------------------------------------------------------- summary

def _human_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024


def _count(variables):
    return sum(v.size for v in variables), sum(v.size * v.dtype.itemsize for v in variables)


def _layer_range_bounds(layers, layer_range):
    """[first, last + 1] of the layers whose names match layer_range's two patterns (re.match),
    as Keras 3 chooses them."""
    if layer_range is None:
        return 0, len(layers)
    if not isinstance(layer_range, (list, tuple)) or len(layer_range) != 2:
        raise ValueError(f"summary: layer_range must be a list or tuple of two layer names, got {layer_range!r:.80}")
    if not all(isinstance(p, str) for p in layer_range):
        raise ValueError(f"summary: layer_range must hold two strings, got {layer_range!r:.80}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(f"summary: layer_range {list(layer_range)} matches no layer name; layers: "
                         f"{[l.name for l in layers]}")
    if min(lower) > max(upper):
        return min(upper), max(lower) + 1
    return min(lower), max(upper) + 1


def summary_lines(model, line_length=None, positions=None, expand_nested=False, show_trainable=False,
                  layer_range=None):
    """Keras 3's summary table: one row per layer (name, type, output shape, parameters), with
    Keras' options: a Trainable column (Y, N, or - for a layer without weights), nested models'
    layers below them ("└ " rows), the layers from the first matching layer_range[0] to the
    last matching layer_range[1], and column edges at `positions` (fractions of line_length, or
    absolute when above 1)."""
    from .models import Sequential

    layers = model._layers if not isinstance(model, Sequential) else model.layers
    start, stop = _layer_range_bounds(layers, layer_range)
    rows = []

    def add_rows(layer, level):
        shape = layer.output_shape
        if shape is None:
            shape_text = "?"
        elif isinstance(shape, list):
            shape_text = ", ".join(shape_str(s) for s in shape)
        else:
            shape_text = shape_str(shape)
        built = layer.built or isinstance(layer, InputLayer)
        params = f"{layer.count_params():,}" if built else "0 (unbuilt)"
        prefix = "   " * level + "└ " if level else ""
        kind = getattr(layer, "keras_class_name", type(layer).__name__)
        row = [f"{prefix}{layer.name} ({kind})", shape_text, params]
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        rows.append(row)
        if expand_nested and layer.layers:
            for sub in layer.layers:
                add_rows(sub, level + 1)

    for layer in layers[start:stop]:
        add_rows(layer, 0)
    headers = ["Layer (type)", "Output Shape", "Param #"] + (["Trainable"] if show_trainable else [])
    align = ["l", "l", "r"] + (["c"] if show_trainable else [])
    if positions is not None:
        if not isinstance(positions, (list, tuple)) or len(positions) != len(headers) \
                or not all(isinstance(p, (int, float)) and not isinstance(p, bool) for p in positions):
            raise ValueError(f"summary: positions must list {len(headers)} numbers (the right edge of each column), "
                             f"got {positions!r:.80}")
        total = line_length or (88 + (12 if show_trainable else 0))
        relative = positions[-1] <= 1  # fractions of the line, else character columns (as Keras 2 read them)
        edges = [int(p * total) if relative else int(p) for p in positions]
        widths, current = [], 0
        for e in edges:
            if e - current < 4:
                raise ValueError(f"summary: positions {list(positions)} leave a column narrower than 4 characters "
                                 f"(line_length {total})")
            widths.append(e - current - 3)  # a border and a space each side
            current = e
    else:
        widths = [31, 22, 13] + ([9] if show_trainable else [])
    widths = [max([w, len(h)] + [len(r[i]) for r in rows]) for i, (w, h) in enumerate(zip(widths, headers))]
    if positions is None and line_length:
        widths[0] = max(widths[0], line_length - sum(widths[1:]) - 3 * len(widths) - 1)

    def line(left, fill, mid, right):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def cells(values, edge):
        texts = [v.ljust(w) if a == "l" else v.rjust(w) if a == "r" else v.center(w)
                 for v, w, a in zip(values, widths, align)]
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

