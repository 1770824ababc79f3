"""Untrusted model and weights files (Note [Untrusted model files] in pynn/saving.py).

A corpus of hostile files, made here, goes through every loader (load_model, model.load_weights)
in a child process that runs under an address-space limit, with a timeout and with an audit
hook: each file must be refused cleanly (ValueError naming the path, or the OSError a missing
file or a directory naturally gives), without blocking, without the memory a bomb asks for and
without running anything."""

import json
import os
import resource
import struct
import textwrap
import zipfile
import zlib

import numpy as np
import pytest

import pynn
from pynn import layers, optimizers
from pynn.models import load_model
from oracle import python_child

GiB = 1 << 30

# The model every corpus file is derived from; the child process builds the same one for load_weights.
MAKE = """
def make():
    return pynn.Sequential([pynn.layers.Input((6,)), pynn.layers.Dense(8, activation="relu"),
                            pynn.layers.BatchNormalization(), pynn.layers.Dense(2, activation="softmax")])
"""
exec(MAKE)


def trained():
    pynn.random.seed(0)
    model = make()  # noqa: F821 (defined by MAKE)
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(16, 6)).astype(np.float32)
    model.fit(x, (x[:, 0] > 0).astype(np.int64), epochs=1, batch_size=8, verbose=0)
    return model


# ---------------------------------------------------------------- a zip writer that can lie

def member(name, data, method=zipfile.ZIP_STORED, size=None, crc=None, flags=0):
    """One zip member: `data` as written (already compressed when method is deflate), with the
    declared uncompressed size and CRC (true ones by default)."""
    if method == zipfile.ZIP_DEFLATED and size is None:
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        raw, data = data, c.compress(data) + c.flush()
        size, crc = len(raw), zlib.crc32(raw) if crc is None else crc
    return (name, data, method, len(data) if size is None else size, zlib.crc32(data) if crc is None else crc,
            flags)


def zip_bytes(members):
    out, central = bytearray(), bytearray()
    for name, data, method, size, crc, flags in members:
        n = name.encode()
        offset = len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, flags, method, 0, 0x21, crc, len(data), size, len(n), 0)
        out += n + data
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, flags, method, 0, 0x21, crc, len(data), size,
                               len(n), 0, 0, 0, 0, 0, offset) + n
    start = len(out)
    out += central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), len(central), start, 0)
    return bytes(out)


def npy_header(descr, shape, fortran=False):
    text = "{'descr': %r, 'fortran_order': %s, 'shape': %r, }" % (descr, fortran, tuple(shape))
    pad = (-(10 + len(text) + 1)) % 64
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text) + pad + 1) + text.encode() + b" " * pad + b"\n"


def bomb(prefix, total):
    """A deflate member whose `total` bytes (prefix, then zeros) compress about 1000:1; its CRC
    is not computed: a loader must refuse it long before reading that far."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
    n = (total - len(prefix)) >> 20
    return head + block * n + c.flush(), len(prefix) + (n << 20)


def bomb_member(name, prefix=b"", total=2 * GiB - 4096):
    data, size = bomb(prefix, total)
    return (name, data, zipfile.ZIP_DEFLATED, size, 0, 0)


def read_members(path):
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def npz_members(blob):
    with zipfile.ZipFile(__import__("io").BytesIO(blob)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def stored_zip(members):
    return zip_bytes([member(n, d) for n, d in members.items()])


# ---------------------------------------------------------------- the corpus

def build_corpus(d):
    """{name: (path, loaders)} with loaders "m" (load_model) and/or "w" (load_weights)."""
    model = trained()
    good_model, good_weights = d / "good.pynn", d / "good.weights.npz"
    model.save(good_model)
    model.save_weights(good_weights)
    members = read_members(good_model)
    weights = npz_members(members["weights.npz"])
    config = json.loads(members["pynn_model.json"])
    corpus = {}

    def add(name, blob, loaders="mw"):
        path = d / name
        path.write_bytes(blob)
        corpus[name] = (str(path), loaders)

    def model_with(loaders="mw", **changes):
        m = dict(members)
        m.update({k.replace("__", "."): v for k, v in changes.items()})
        return stored_zip({k: v for k, v in m.items() if v is not None})

    def with_config(change):
        c = json.loads(members["pynn_model.json"])
        change(c)
        return model_with(pynn_model__json=json.dumps(c).encode())

    def weights_with(**changes):
        w = dict(weights)
        w.update({k.replace("__", "."): v for k, v in changes.items()})
        return stored_zip({k: v for k, v in w.items() if v is not None})

    # zip bombs: an array, a whole member, a member the format lacks, the config, a weights file
    inner = zip_bytes([bomb_member("w0000.npy", npy_header("<f4", (2**29 - 1024,)))]
                      + [member(n, b) for n, b in weights.items() if n != "w0000.npy"])
    add("bomb_array.pynn", model_with(weights__npz=inner))
    add("bomb_member.pynn", zip_bytes([member(n, b) for n, b in members.items() if n != "weights.npz"]
                                      + [bomb_member("weights.npz")]))
    add("bomb_extra.pynn", zip_bytes([member(n, b) for n, b in members.items()] + [bomb_member("extra.bin")]))
    add("bomb_config.pynn", zip_bytes([bomb_member("pynn_model.json", b'{"format": "pynn.model"' + b" " * 100)]
                                      + [member(n, b) for n, b in members.items() if n != "pynn_model.json"]), "m")
    add("bomb.weights.npz", zip_bytes([bomb_member("w0000.npy", npy_header("<f4", (6, 8)))]
                                      + [member(n, b) for n, b in weights.items() if n != "w0000.npy"]), "w")
    # members the format does not have, duplicates, unsupported methods, encryption
    add("traversal.pynn", zip_bytes([member(n, b) for n, b in members.items()] + [member("../../x", b"hi")]))
    add("traversal.weights.npz", zip_bytes([member(n, b) for n, b in weights.items()]
                                           + [member("../../w0000.npy", weights["w0000.npy"])]), "w")
    add("unknown_member.pynn", model_with(evil__py=b"import os; os.system('touch /tmp/pwned')"))
    add("unknown_array.pynn", model_with(weights__npz=weights_with(x__npy=weights["w0000.npy"])))
    add("duplicate.pynn", zip_bytes([member(n, b) for n, b in members.items()]
                                    + [member("weights.npz", members["weights.npz"])]))
    add("method99.pynn", zip_bytes([member(n, b, 99 if n == "weights.npz" else 0) for n, b in members.items()]))
    add("encrypted.pynn", zip_bytes([member(n, b, flags=1 if n == "pynn_model.json" else 0)
                                     for n, b in members.items()]))
    # lying or hostile .npy headers
    real = weights["w0000.npy"]
    body = real[len(npy_header("<f4", (6, 8))):]
    for name, header in {"npy_huge": npy_header("<f4", (2**40,)), "npy_short": npy_header("<f4", (6, 9)),
                         "npy_object": npy_header("|O", (6, 8)), "npy_int": npy_header("<i4", (6, 8)), "npy_f3": npy_header("<f3", (6, 8)),
                         "npy_eval": b"\x93NUMPY\x01\x00" + struct.pack("<H", 63)
                         + b"__import__('os').system('touch /tmp/pwned')".ljust(62) + b"\n",
                         "npy_header_len": b"\x93NUMPY\x02\x00" + struct.pack("<L", 2**31)}.items():
        add(f"{name}.pynn", model_with(weights__npz=weights_with(w0000__npy=header + body)))
        add(f"{name}.weights.npz", weights_with(w0000__npy=header + body), "w")
    paths0d = npy_header("<U3", ()) + "abc".encode("utf-32-le")
    add("paths_0d.pynn", model_with(weights__npz=weights_with(paths__npy=paths0d)))
    add("paths_0d.weights.npz", weights_with(paths__npy=paths0d), "w")
    paths_long = npy_header("<U100000", (8,)) + bytes(8 * 400000)
    add("paths_long.weights.npz", weights_with(paths__npy=paths_long), "w")
    add("array_gap.weights.npz", weights_with(w0003__npy=None), "w")
    # configs: damaged, nested, huge shapes
    add("config_list.pynn", with_config(lambda c: c.update(config=[])), "m")
    add("config_not_object.pynn", model_with(pynn_model__json=b"[1, 2, 3]"), "m")
    add("iterations_abc.pynn", with_config(lambda c: c.update(optimizer_iterations="abc")), "m")
    add("iterations_list.pynn", with_config(lambda c: c.update(optimizer_iterations=[1])), "m")
    add("iterations_negative.pynn", with_config(lambda c: c.update(optimizer_iterations=-1)), "m")
    add("deep_json.pynn", model_with(pynn_model__json=b'{"format": "pynn.model", "version": 1, "x": '
                                     + b"[" * 100000 + b"]" * 100000 + b"}"), "m")
    nested = json.loads(members["pynn_model.json"])
    for _ in range(300):
        nested["config"] = {"name": None, "layers": [{"class_name": "Sequential", "config": nested["config"]}]}
    add("nested_sequentials.pynn", model_with(pynn_model__json=json.dumps(nested).encode()), "m")
    add("model_without_nodes.pynn", with_config(lambda c: c.update(class_name="Functional" if False else "Model",
                                                                   config={"name": "m"})), "m")
    add("model_bad_nodes.pynn", with_config(lambda c: c.update(class_name="Model", config={
        "name": "m", "layers": c["config"]["layers"], "nodes": [{"layer": "x", "args": [[1]], "is_list": 0}],
        "inputs": [["x", 0, 99]], "outputs": 7})), "m")
    add("unknown_class.pynn", with_config(lambda c: c["config"]["layers"][1].update(class_name="os.system")), "m")
    add("layer_config_list.pynn", with_config(lambda c: c["config"]["layers"][1].update(config=[1])), "m")
    add("input_3m.pynn", with_config(lambda c: c["config"]["layers"][0]["config"].update(batch_shape=[None, 3000000])),
        "m")
    add("input_2g.pynn", with_config(lambda c: c["config"]["layers"][0]["config"].update(batch_shape=[None, 2**31])),
        "m")
    add("input_bool.pynn", with_config(lambda c: c["config"]["layers"][0]["config"].update(batch_shape=[None, True])),
        "m")
    add("units_2_40.pynn", with_config(lambda c: c["config"]["layers"][1]["config"].update(units=2**40)), "m")
    add("units_1m.pynn", with_config(lambda c: c["config"]["layers"][1]["config"].update(units=1 << 20)), "m")

    def lazy(c, shape):  # no Input: the model is built by calling it on build_input_shape
        c["config"]["layers"] = c["config"]["layers"][1:]
        c["config"]["layers"][0]["config"]["input_shape"] = None
        c["build_input_shape"] = shape

    add("build_shape_2g.pynn", with_config(lambda c: lazy(c, [2147483648, 2147483648])), "m")
    add("build_shape_3m.pynn", with_config(lambda c: lazy(c, [None, 3000000])), "m")
    add("build_shape_text.pynn", with_config(lambda c: lazy(c, "abc")), "m")
    add("build_shape_negative.pynn", with_config(lambda c: lazy(c, [None, -6])), "m")
    # the optimizer member
    add("optimizer_bomb.pynn", zip_bytes([member(n, b) for n, b in members.items() if n != "optimizer.npz"]
                                         + [bomb_member("optimizer.npz")]), "m")
    opt = npz_members(members["optimizer.npz"])
    opt["o0000.npy"] = npy_header("<f4", (2**40,)) + b"\0" * 64
    add("optimizer_lying.pynn", model_with(optimizer__npz=stored_zip(opt)), "m")
    opt = npz_members(members["optimizer.npz"])
    opt.pop(max(opt))
    add("optimizer_short.pynn", model_with(optimizer__npz=stored_zip(opt)), "m")
    # the end record places the central directory further on than it is: every offset shifts negative
    blob = bytearray(stored_zip(members))
    blob[-6:-2] = struct.pack("<L", struct.unpack("<L", blob[-6:-2])[0] + 5000)
    add("cd_offset_shift.pynn", bytes(blob))
    # not files: FIFOs, a symlink to one, devices, a directory, nothing
    os.mkfifo(d / "fifo.pynn")
    os.symlink(d / "fifo.pynn", d / "link_to_fifo.pynn")
    for name in ("fifo.pynn", "link_to_fifo.pynn"):
        corpus[name] = (str(d / name), "mw")
    for dev in ("/dev/zero", "/dev/urandom"):
        corpus[dev] = (dev, "mw")
    (d / "a_directory.pynn").mkdir()
    corpus["a_directory.pynn"] = (str(d / "a_directory.pynn"), "mw")
    corpus["missing.pynn"] = (str(d / "missing.pynn"), "mw")
    # truncations and bit flips of a good file
    for source, loaders in ((good_model, "mw"), (good_weights, "w")):
        blob = source.read_bytes()
        for keep in (0, 1, 29, 200, len(blob) // 2, len(blob) - 23, len(blob) - 1):
            add(f"cut{keep}_{source.name}", blob[:keep], loaders)
    blob = good_model.read_bytes()
    rng = np.random.default_rng(7)
    for at in rng.choice(len(blob), 12, replace=False):
        flipped = bytearray(blob)
        flipped[at] ^= 1 << int(rng.integers(8))
        add(f"flip{at}.pynn", bytes(flipped), "mw")
    return corpus, str(good_model), str(good_weights)


CHILD = textwrap.dedent("""
    import json, os, resource, sys
    import pynn
    from pynn.models import load_model
    """) + MAKE + textwrap.dedent("""
    corpus, good_model, good_weights, headroom = json.loads(sys.stdin.read())
    load_model(good_model)  # the imports a load needs happen here, before the hook
    make().load_weights(good_weights)
    make().predict(__import__("numpy").zeros((4096, 6), "float32"), verbose=0)  # threads start before the limit

    def vm(key):
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) * 1024 for l in f if l.startswith(key + ":"))

    limit = vm("VmSize") + headroom
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # VmHWM := VmRSS: the peak from here on
        rss = vm("VmRSS")
    except OSError:  # not allowed here: growth beyond the peak so far
        rss = vm("VmHWM")
    banned = ("import", "exec", "compile", "pickle.find_class", "os.system", "subprocess.Popen", "os.exec",
              "os.posix_spawn", "os.spawn", "os.fork", "ctypes.dlopen", "marshal.loads")
    seen = []
    sys.addaudithook(lambda event, args: seen.append(event) if event.startswith(banned) else None)
    results = {}
    for name, (path, loaders) in corpus.items():
        for loader in loaders:
            try:
                if loader == "m":
                    load_model(path)
                else:
                    make().load_weights(path)
                outcome = ["ok", ""]
            except BaseException as e:
                outcome = [type(e).__name__, str(e)]
            results[f"{name} {loader}"] = outcome + [path]
    print(json.dumps({"results": results, "events": sorted(set(seen)), "growth": vm("VmHWM") - rss}))
    """)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    corpus, good_model, good_weights = build_corpus(d)
    headroom = int(1.5 * GiB)
    run = python_child(CHILD, input=json.dumps([corpus, good_model, good_weights, headroom]),
                       capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    return corpus, json.loads(run.stdout)


NATURAL = {"missing.pynn": "FileNotFoundError", "a_directory.pynn": "IsADirectoryError"}


def test_every_hostile_file_is_refused_with_a_value_error_naming_it(outcomes):
    corpus, report = outcomes
    wrong = {}
    for key, (kind, message, path) in report["results"].items():
        name = key.split()[0]
        if name.startswith("flip") and kind == "ok":
            continue  # a flipped bit in a timestamp or an attribute changes nothing that matters
        expected = NATURAL.get(name, "ValueError")
        if kind != expected or path not in message:
            wrong[key] = (kind, message[:300])
    assert not wrong, json.dumps(wrong, indent=1)
    assert len(report["results"]) > 100


def test_loading_hostile_files_runs_nothing(outcomes):
    # no import, exec, compile (ast.literal_eval, which np.load uses on .npy headers, compiles),
    # unpickling or process creation while the corpus loads
    assert outcomes[1]["events"] == []


def test_bombs_are_refused_before_their_memory_is_used(outcomes):
    corpus, report = outcomes
    # the corpus declares 2 GiB bombs; the child ran under an address-space limit 1.5 GiB above its
    # baseline and its peak resident memory grew by less than the size of one bomb's megabytes
    assert report["growth"] < 256 << 20, report["growth"]
    for key in ("bomb_array.pynn m", "bomb_member.pynn m", "bomb_extra.pynn m", "bomb_config.pynn m",
                "bomb_member.pynn w", "bomb.weights.npz w"):
        assert report["results"][key][0] == "ValueError"
    assert "more than the limit" in report["results"]["bomb_member.pynn m"][1]
    assert "max_bytes" in report["results"]["bomb_member.pynn m"][1]


@pytest.mark.parametrize("name, pattern", [
    ("fifo.pynn m", "not a regular file"), ("link_to_fifo.pynn w", "not a regular file"),
    ("/dev/zero m", "not a regular file"), ("traversal.pynn m", "member '../../x' that the format does not have"),
    ("duplicate.pynn m", "twice"), ("npy_huge.pynn m", r"shape \(1099511627776,\)"),
    ("npy_eval.pynn m", "not one numpy writes"), ("npy_object.pynn m", "not a float or string array"),
    ("paths_0d.pynn m", "1-d string array"), ("config_list.pynn m", "config an object"),
    ("iterations_abc.pynn m", "optimizer_iterations must be a non-negative int"),
    ("deep_json.pynn m", "nested"), ("nested_sequentials.pynn m", "nested more than"),
    ("model_without_nodes.pynn m", "needs layers, nodes"), ("units_2_40.pynn m", "units = 1,099,511,627,776"),
    ("units_1m.pynn m", "more than the 106 the file stores"), ("input_3m.pynn m", "more than the 106 the file stores"),
    ("build_shape_2g.pynn m", "build_input_shape = \\[2147483648, 2147483648\\]"),
    ("unknown_class.pynn m", "unknown layer class 'os.system'"), ("method99.pynn m", "method 99"), ("encrypted.pynn m", "is encrypted"),
    ("npy_f3.weights.npz w", "unknown dtype '<f3'"), ("optimizer_short.pynn m", r"optimizer.npz holds 11 slot variables, the model has 12"),
    ("cd_offset_shift.pynn w", "points outside the file|damaged"),
])
def test_refusals_say_what_is_wrong(outcomes, name, pattern):
    import re

    kind, message, path = outcomes[1]["results"][name]
    assert kind == "ValueError" and re.search(pattern, message), (kind, message)


def test_max_bytes_lets_a_trusted_compressed_file_load(tmp_path):
    model = trained()
    path = tmp_path / "m.pynn"
    model.save(path)
    members = read_members(path)
    weights = npz_members(members["weights.npz"])
    # another tool compressed the arrays: 4 MiB of zeros in a file of a few KiB
    weights["w0000.npy"] = npy_header("<f4", (6, 8)) + np.asarray(model.weights[0]).tobytes()
    members["weights.npz"] = zip_bytes([member(n, b, zipfile.ZIP_DEFLATED) for n, b in weights.items()])
    path.write_bytes(zip_bytes([member(n, b, zipfile.ZIP_DEFLATED) for n, b in members.items()]))
    again = load_model(path)  # within the default limit
    for a, b in zip(again.get_weights(), model.get_weights()):
        assert np.array_equal(a, b)
    with pytest.raises(ValueError, match=r"m\.pynn: the file declares .* bytes of data, more than the limit of 100 "):
        load_model(path, max_bytes=100)
    with pytest.raises(ValueError, match=r"m\.pynn: .*more than the limit of 100 bytes"):
        make().load_weights(path, max_bytes=100)  # noqa: F821
    with pytest.raises(TypeError, match="max_bytes"):
        load_model(path, max_bytes="1GB")


def test_a_refused_weights_file_leaves_the_model_unchanged(tmp_path):
    model = trained()
    path = tmp_path / "w.npz"
    model.save_weights(path)
    blob = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("w0003.npy")
    blob[info.header_offset + 30 + len(info.filename) + 130] ^= 0xFF  # the data of the 4th array
    path.write_bytes(bytes(blob))
    other = make()  # noqa: F821
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"w\.npz: .*w0003\.npy is damaged .*CRC"):
        other.load_weights(path)
    for a, b in zip(other.get_weights(), before):
        assert np.array_equal(a, b)


MEMORY_CHILD = """
import sys
import pynn
from pynn.models import load_model

def status(key):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(key))

def growth(load):
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # VmHWM := VmRSS: the peak from here on
        rss = status("VmRSS:")
    except OSError:  # not allowed here: growth beyond the peak so far
        rss = status("VmHWM:")
    out = load()
    return out, status("VmHWM:") - rss

model, a = growth(lambda: load_model(sys.argv[1]))  # nothing but the model's own weights stay
_, b = growth(lambda: model.load_weights(sys.argv[1]))  # the file's arrays are read before any is assigned
print(a, b)
"""


def test_peak_memory_while_loading_is_within_one_and_a_half_times_the_weights(tmp_path):
    model = pynn.Sequential([layers.Input((1024,)), layers.Dense(4096, use_bias=False),
                             layers.Dense(4, use_bias=False)])
    path = tmp_path / "big.pynn"
    model.save(path)
    size = sum(np.asarray(v).nbytes for v in model.weights)  # 16 MiB
    run = python_child(MEMORY_CHILD, str(path), capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    load_model_growth, load_weights_growth = map(int, run.stdout.split())
    assert load_model_growth <= 1.5 * size, (load_model_growth, size)
    assert load_weights_growth <= 1.5 * size, (load_weights_growth, size)
