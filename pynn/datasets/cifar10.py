"""CIFAR-10 (Alex Krizhevsky, 2009): 32x32 colour images in 10 classes (CLASS_NAMES), 50000 for
training and 10000 for testing, from the Python-pickle archive Keras uses.

Note [CIFAR pickles]
The archive cifar-10-python.tar.gz holds six Python pickles under
cifar-10-batches-py/ (data_batch_1 .. data_batch_5, test_batch), each a dict
{b"data": (n, 3072) uint8 array, b"labels": n ints, ...} where a row is an
image's red, green and blue 32x32 planes one after another. A pickle can call
any function it names, so a batch is read by _BatchUnpickler, whose find_class
hands out only what rebuilding a NumPy array needs (multiarray._reconstruct
under NumPy 1's and NumPy 2's module names, numpy.ndarray, numpy.dtype) and
refuses every other global with a DatasetError naming the file and the global,
before anything is called. Each batch is then checked (a dict, b"data" an
(n, 3072) uint8 array, n labels in 0..9) before use. Members are read straight
from the tar, never extracted to disk; a member that is not a regular file (a
symbolic or hard link, a folder, a device) is refused, and so is a batch that
appears twice. The files are found and fetched as Note [Data set files] says.
"""

import tarfile
import zlib

import numpy as np

from . import _idx
from ._idx import DatasetError

NAME = "cifar10"
ARCHIVE = "cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"
CHECKSUMS = {ARCHIVE: "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"}
MIRRORS = ("https://www.cs.toronto.edu/~kriz/",)
TRAIN_BATCHES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5")
TEST_BATCH = "test_batch"
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

def _BatchUnpickler(file, where):
    """Unpickles one CIFAR batch, allowing only NumPy's array reconstruction (Note [Restricted
    unpickling] in _idx.py); the batches are Python 2 pickles: str -> bytes."""
    return _idx.RestrictedUnpickler(file, where, "a CIFAR batch", encoding="bytes")


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


def _read_batch(f, where):
    """(data (n, 3072) uint8, labels (n,) uint8) from the open pickle f, checked (Note [CIFAR pickles])."""
    try:
        batch = _BatchUnpickler(f, where).load()
    except DatasetError:
        raise
    except Exception as e:  # noqa: BLE001 (a corrupt stream fails in pickle, zlib, tarfile, NumPy, ...)
        raise DatasetError(f"{where}: not a readable CIFAR batch pickle ({type(e).__name__}: {e})") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        keys = f" with keys {sorted(map(repr, batch))[:8]}" if isinstance(batch, dict) else ""
        raise DatasetError(f"{where}: a CIFAR batch is a dict with b'data' and b'labels'; got {_describe(batch)}{keys}")
    data, labels = batch[b"data"], batch[b"labels"]
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2 and data.shape[1] == 3072):
        raise DatasetError(f"{where}: b'data' must be an (n, 3072) uint8 array (n images, 3 planes of 32x32); "
                           f"got {_describe(data)}")
    if isinstance(labels, np.ndarray) and labels.ndim == 1 and labels.dtype.kind in "iu":
        labels = labels.tolist()
    if not isinstance(labels, (list, tuple)):
        raise DatasetError(f"{where}: b'labels' must be a list of ints in 0..9; got {_describe(labels)}")
    for i, v in enumerate(labels):
        if type(v) is not int or not 0 <= v <= 9:
            raise DatasetError(f"{where}: b'labels'[{i}] is {v!r}; labels are ints in 0..9")
    if len(labels) != data.shape[0]:
        raise DatasetError(f"{where}: b'data' holds {data.shape[0]} images but b'labels' {len(labels)} labels")
    return data, np.array(labels, dtype=np.uint8)


def _member_kind(member):
    return ("symbolic link" if member.issym() else "hard link" if member.islnk() else
            "folder" if member.isdir() else "special file")


def _read_archive(archive):
    """{batch name: (data, labels)} read from the tar.gz in one pass, without extracting."""
    wanted = {f"{FOLDER}/{b}": b for b in TRAIN_BATCHES + (TEST_BATCH,)}
    batches = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if name not in wanted:
                    continue
                where = f"{archive}: member {name}"
                if wanted[name] in batches:
                    raise DatasetError(f"{where} appears twice in the archive; refused")
                if not member.isreg():
                    raise DatasetError(f"{where} is a {_member_kind(member)}, not a regular file; refused")
                with tar.extractfile(member) as f:
                    batches[wanted[name]] = _read_batch(f, where)
    except DatasetError:
        raise
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise DatasetError(f"{archive}: not a readable tar.gz archive ({type(e).__name__}: {e})") from None
    missing = [f"{FOLDER}/{b}" for b in wanted.values() if b not in batches]
    if missing:
        raise DatasetError(f"{archive}: the archive has no member {', '.join(missing)}")
    return batches


def _read_folder(folder):
    """{batch name: (data, labels)} from an extracted cifar-10-batches-py/ folder."""
    batches = {}
    for b in TRAIN_BATCHES + (TEST_BATCH,):
        p = folder / b
        if not _idx._is_file(NAME, p):
            raise DatasetError(f"{p}: missing (the extracted folder {folder} needs "
                               f"{', '.join(TRAIN_BATCHES)} and {TEST_BATCH})")
        try:
            with open(p, "rb") as f:
                batches[b] = _read_batch(f, str(p))
        except DatasetError:
            raise
        except OSError as e:
            raise DatasetError(f"{p}: cannot be read ({e.strerror or e})") from None
    return batches


def _assemble(batches, names):
    """Keras' arrays from the named batches, popped from `batches` as they are copied: x (n, 32, 32, 3)
    (channels_last, C-contiguous) and y (n, 1), both uint8."""
    n = sum(len(batches[b][0]) for b in names)
    x = np.empty((n, 32, 32, 3), np.uint8)
    y = np.empty((n, 1), np.uint8)
    start = 0
    for b in names:
        data, labels = batches.pop(b)
        stop = start + len(data)
        x[start:stop] = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        y[start:stop, 0] = labels
        start = stop
    return x, y


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)) as Keras 3's keras.datasets.cifar10.load_data() gives
    them: x_train (50000, 32, 32, 3), y_train (50000, 1), x_test (10000, 32, 32, 3), y_test
    (10000, 1), all uint8, images channels_last (pixel (row, col, channel) of an image is
    data[channel * 1024 + row * 32 + col] of its pickled row), labels 0-9 (CLASS_NAMES). The x
    arrays are C-contiguous (Keras returns transposed views; the values are the same).

    Looks, in order, in `path`, $PYNN_DATA/cifar10/ and ~/.cache/pynn/cifar10/ for
    cifar-10-python.tar.gz (sha256-checked) or, failing that in the same place, an extracted
    cifar-10-batches-py/ folder (read as it is: an extracted folder has no checksum to check, only
    each batch's contents are checked). With neither anywhere, the archive is downloaded into the
    cache (Note [Data set files]). Batches are unpickled with only NumPy's array globals allowed
    (Note [CIFAR pickles]). Memory stays near the arrays' 184 MB plus one batch: each pickled batch
    is released once copied into place.
    """
    dirs = _idx.candidate_dirs(NAME, path)
    batches = None
    for d in dirs:
        archive = d / ARCHIVE
        if _idx._is_file(NAME, archive):
            try:
                got = _idx.sha256(archive)
            except OSError as e:
                raise DatasetError(f"{archive}: cannot be read ({e.strerror or e})") from None
            if got != CHECKSUMS[ARCHIVE]:
                raise DatasetError(f"{archive}: sha256 {got} does not match the expected {CHECKSUMS[ARCHIVE]} "
                                   f"of CIFAR-10's {ARCHIVE}; remove it to download it again")
            batches = _read_archive(archive)
            break
        if _idx._is_dir(NAME, d / FOLDER):
            batches = _read_folder(d / FOLDER)
            break
    if batches is None:
        cache = dirs[-1]
        errors = _idx._download_any([m + ARCHIVE for m in MIRRORS], cache / ARCHIVE, CHECKSUMS[ARCHIVE])
        if errors is not None:
            looked = "\n  ".join(f"{d / ARCHIVE}  (or the folder {d / FOLDER}/)" for d in dirs)
            tried = "\n  ".join(errors) or "(no mirrors)"
            raise DatasetError(
                f"{NAME}: {ARCHIVE} was not found. Looked in:\n  {looked}\nDownloads failed:\n  {tried}\n"
                f"Put {ARCHIVE} (or its extracted {FOLDER}/ folder) in a folder and pass it as "
                f"load_data(path=...), or set PYNN_DATA to a folder holding {NAME}/.")
        batches = _read_archive(cache / ARCHIVE)
    x_train, y_train = _assemble(batches, TRAIN_BATCHES)
    x_test, y_test = _assemble(batches, (TEST_BATCH,))
    return (x_train, y_train), (x_test, y_test)
