"""Reading, finding and fetching the IDX .gz files of MNIST-style data sets.

Note [Data set files]
A data set is four gzip-compressed IDX files. load() looks for them, in order,
in the `path` argument, in $PYNN_DATA/<name>/ and in ~/.cache/pynn/<name>/;
files missing everywhere are downloaded into the cache from the data set's
mirrors, checked against the sha256 constants, written to a temporary file
and renamed, so a broken download never leaves a file behind. Offline with no
file, the error names every place looked and how to provide the files. A
file with a wrong checksum or a bad IDX header is refused with its path.
CIFAR-10 (cifar10.py) follows the same rules with its one tar.gz archive.
"""

import gzip
import hashlib
import io
import os
import pathlib
import pickle
import tempfile
import urllib.error
import urllib.request
import zipfile

import numpy as np

FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
_MAGIC = {2051: 3, 2049: 1}  # images: count, rows, cols; labels: count


class DatasetError(OSError):
    """A data set file is missing, corrupt or not the expected one."""


def read_idx(path):
    """The array in one gzip-compressed IDX file (uint8), with its header checked."""
    path = pathlib.Path(path)
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DatasetError(f"{path}: not a readable gzip file ({e})") from None
    if len(raw) < 8:
        raise DatasetError(f"{path}: truncated IDX header ({len(raw)} bytes)")
    magic = int.from_bytes(raw[0:4], "big")
    if magic not in _MAGIC:
        raise DatasetError(f"{path}: bad IDX magic number {magic} (expected 2051 for images or 2049 for labels)")
    ndim = _MAGIC[magic]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path}: truncated IDX header")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    size = int(np.prod(dims))
    if len(raw) - header != size:
        raise DatasetError(f"{path}: IDX header says {dims} ({size} bytes) but the file holds {len(raw) - header}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def sha256(path, algorithm="sha256"):
    """The hex digest of the file at path (sha256, or md5 for the files Keras checks with an md5)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(url, dest, expected_sha256, timeout=30):
    """url -> dest via a temporary file in dest's folder, renamed only when the checksum matches."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            while block := response.read(1 << 20):
                out.write(block)
        algorithm = hash_name(expected_sha256)
        got = sha256(tmp, algorithm)
        if got != expected_sha256:
            raise DatasetError(f"{url}: {algorithm} {got} does not match the expected {expected_sha256}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def hash_name(expected):
    """The algorithm of a Keras file_hash: 64 hex digits sha256, 32 md5 (as Keras' get_file)."""
    return "md5" if len(expected) == 32 else "sha256"


def candidate_dirs(name, path=None, cache_dir=None):
    dirs = []
    if path is not None:
        dirs.append(pathlib.Path(path).expanduser())
    if os.environ.get("PYNN_DATA"):
        dirs.append(pathlib.Path(os.environ["PYNN_DATA"]).expanduser() / name)
    dirs.append(pathlib.Path(cache_dir).expanduser() if cache_dir else pathlib.Path.home() / ".cache" / "pynn" / name)
    return dirs


def _probe(name, p, test):
    """test() (p.is_file or p.is_dir), with the OSErrors that pathlib lets through (ENAMETOOLONG,
    EACCES on a parent folder, ...) raised as DatasetError naming the loader and the path."""
    try:
        return test()
    except OSError as e:
        shown = str(p) if len(str(p)) <= 200 else str(p)[:200] + "..."
        raise DatasetError(f"{name.replace('-', '_')}.load_data: cannot look for {shown}: {e.strerror or e}") from None


def _is_file(name, p):
    return _probe(name, p, p.is_file)


def _is_dir(name, p):
    return _probe(name, p, p.is_dir)


def _download_any(urls, dest, expected_sha256):
    """dest from the first of urls that downloads with the expected checksum (_download): None
    then, else the list of "url: error" lines of every failed attempt."""
    errors = []
    for url in urls:
        try:
            _download(url, dest, expected_sha256)
            return None
        except (urllib.error.URLError, OSError, ValueError) as e:
            errors.append(f"{url}: {e}")
    return errors


def load(name, checksums, mirrors, path=None, cache_dir=None):
    """((x_train, y_train), (x_test, y_test)) as uint8 arrays (Note [Data set files])."""
    dirs = candidate_dirs(name, path, cache_dir)
    cache = dirs[-1]
    arrays = []
    for fname in FILES:
        found = next((d / fname for d in dirs if _is_file(name, d / fname)), None)
        if found is None:
            errors = _download_any([mirror + fname for mirror in mirrors], cache / fname, checksums[fname])
            if errors is None:
                found = cache / fname
            else:
                looked = "\n  ".join(str(d / fname) for d in dirs)
                tried = "\n  ".join(errors) or "(no mirrors)"
                raise DatasetError(
                    f"{name}: {fname} was not found. Looked in:\n  {looked}\nDownloads failed:\n  {tried}\n"
                    f"Provide the four IDX .gz files ({', '.join(FILES)}) in a folder and pass it as "
                    f"load_data(path=...), or set PYNN_DATA to a folder holding {name}/."
                )
        elif sha256(found) != checksums[fname]:
            raise DatasetError(f"{found}: sha256 {sha256(found)} does not match the expected {checksums[fname]} "
                               f"for {name}'s {fname}")
        arrays.append(read_idx(found))
    x_train, y_train, x_test, y_test = arrays
    for x, y, which in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if x.shape[0] != y.shape[0]:
            raise DatasetError(f"{name}: {which} images ({x.shape[0]}) and labels ({y.shape[0]}) differ in count")
    return (x_train, y_train), (x_test, y_test)


# Note [Restricted unpickling]
# A pickle can call any function it names. Data set files that need pickle (CIFAR's
# batches, the object arrays of IMDB's and Reuters' .npz) are read by RestrictedUnpickler,
# whose find_class hands out only what rebuilding a NumPy array needs
# (multiarray._reconstruct under NumPy 1's and NumPy 2's module names, numpy.ndarray,
# numpy.dtype) and refuses every other global with a DatasetError naming the file and the
# global, before anything is called. Python lists and ints are pickle opcodes, not
# globals, so an object array of lists of ints needs nothing more. _reconstruct is taken
# from an array's own __reduce__, so neither numpy.core (deprecated) nor numpy._core is imported.
_RECONSTRUCT = np.zeros(1, np.uint8).__reduce__()[0]
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles NumPy arrays only (Note [Restricted unpickling]); `what` names the kind of file in
    the refusal ("a CIFAR batch"), `where` the file."""

    def __init__(self, file, where, what="a data set pickle", **kwargs):
        super().__init__(file, **kwargs)
        self.where, self.what = where, what

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise DatasetError(f"{self.where}: the pickle asks for {module}.{name}, but {self.what} may only "
                               f"name NumPy's array reconstruction (multiarray._reconstruct, numpy.ndarray, "
                               f"numpy.dtype); refused, the file is corrupt or malicious") from None


def read_npz(path):
    """{name: array} of every .npy member of the .npz at path. Numeric members are read with pickling
    off; the pickle payload of an object-dtype member goes through RestrictedUnpickler (Note
    [Restricted unpickling]), never np.load(allow_pickle=True). Anything unreadable: DatasetError."""
    arrays = {}
    try:
        with open(path, "rb") as fh, zipfile.ZipFile(fh) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                where = f"{path}[{member}]"
                buf = io.BytesIO(archive.read(member))
                version = np.lib.format.read_magic(buf)
                if version == (1, 0):
                    shape, _fortran, dtype = np.lib.format.read_array_header_1_0(buf)
                elif version in ((2, 0), (3, 0)):
                    shape, _fortran, dtype = np.lib.format.read_array_header_2_0(buf)
                else:
                    raise DatasetError(f"{where}: unsupported .npy format version {version}")
                if dtype.hasobject:
                    if dtype != np.dtype(object):
                        raise DatasetError(f"{where}: a structured dtype with objects ({dtype}) is not read")
                    a = RestrictedUnpickler(buf, where, "an object array in a data set .npz").load()
                    if not (isinstance(a, np.ndarray) and a.dtype == object and a.shape == tuple(shape)):
                        got = f"shape {a.shape} dtype {a.dtype}" if isinstance(a, np.ndarray) else type(a).__name__
                        raise DatasetError(f"{where}: the header says an object array of shape {tuple(shape)}; "
                                           f"the pickle holds {got}")
                else:
                    buf.seek(0)
                    a = np.lib.format.read_array(buf, allow_pickle=False)
                arrays[member[:-len(".npy")]] = a
    except DatasetError:
        raise
    except Exception as e:  # noqa: BLE001 (a corrupt file fails in zipfile, zlib, pickle, NumPy, ...)
        raise DatasetError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from None
    return arrays


def find_file(name, fname, path, origins, expected, loader):
    """The checked local file for one of a data set's files, downloaded into the cache when found
    nowhere, as Note [Boston housing file] (boston_housing.py) says for `path`: a folder (holding
    fname), an existing file, or a bare file name looked for in $PYNN_DATA/<name>/ and the cache.
    expected: Keras' file hash (sha256, or md5 when 32 hex digits); loader names the function in
    the messages."""
    files = []
    if path is not None:
        raw = os.fspath(path)
        p = pathlib.Path(raw).expanduser()
        bare = os.sep not in raw and (os.altsep is None or os.altsep not in raw)
        ext = pathlib.PurePath(fname).suffix.lower()
        if _is_dir(name, p) or not p.name.lower().endswith(ext):
            files.append(p / fname)
        else:
            fname = p.name
            if not bare:
                files.append(p)
    dirs = candidate_dirs(name)
    files.extend(d / fname for d in dirs)
    algorithm = hash_name(expected)
    found = next((f for f in files if _is_file(name, f)), None)
    if found is None:
        errors = _download_any(list(origins), dirs[-1] / fname, expected)
        if errors is not None:
            looked = "\n  ".join(str(f) for f in files)
            tried = "\n  ".join(errors) or "(no origin)"
            raise DatasetError(
                f"{loader}: {fname} was not found. Looked in:\n  {looked}\nDownload failed:\n  {tried}\n"
                f"Put Keras' file in a folder and pass the folder or the file as path=..., "
                f"or set PYNN_DATA to a folder holding {name}/.")
        return dirs[-1] / fname
    try:
        got = sha256(found, algorithm)
    except OSError as e:
        raise DatasetError(f"{found}: cannot be read ({e.strerror or e})") from None
    if got != expected:
        raise DatasetError(f"{found}: {algorithm} {got} does not match the expected {expected} of Keras' "
                           f"{fname}; remove it to download it again")
    return found
