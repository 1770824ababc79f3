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
import os
import pathlib
import tempfile
import urllib.error
import urllib.request

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


def sha256(path):
    h = hashlib.sha256()
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
        got = sha256(tmp)
        if got != expected_sha256:
            raise DatasetError(f"{url}: sha256 {got} does not match the expected {expected_sha256}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


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
