"""Boston Housing (StatLib, Carnegie Mellon University): 506 suburbs of Boston in the late
1970s, 13 numeric attributes each (x) and the median home value in k$ (y), from the .npz file
Keras uses.

Keras warns that the data set has an ethical problem: one attribute, "B", is built on the
assumption that racial self-segregation influences house prices. Use it for illustrating
regression mechanics (or that very problem), not as a model of anything.

Note [Boston housing file]
One NumPy .npz holding "x" (506, 13) float64 and "y" (506,) float64. It is
found and fetched as Note [Data set files] (_idx.py) says, with one change for
Keras' `path` argument (a file name relative to ~/.keras/datasets in Keras):
here `path` may name an .npz file (used when it exists, its name kept for the
other places; a bare name such as the default "boston_housing.npz" is only a
name, looked for in the places below and not in the working folder) or a folder holding boston_housing.npz (an existing folder, or a
missing path whose name does not end in .npz); then $PYNN_DATA/boston_housing/
and ~/.cache/pynn/boston_housing/ are searched for that name, and the file is
downloaded into the cache from Keras' origin when found nowhere. Every file
is checked against Keras' sha256 before use (Keras' get_file checks a cached
file the same way) and read with np.load(allow_pickle=False), so an .npz
cannot run code; one that is not a readable .npz of that shape is refused
with its path.
"""

import os
import pathlib
import zipfile

import numpy as np

from . import _idx
from ._idx import DatasetError

NAME = "boston_housing"
FILE = "boston_housing.npz"
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def _candidates(path):
    """(file name, [candidate files]) for `path` (Note [Boston housing file])."""
    fname = FILE
    files = []
    if path is not None:
        p = pathlib.Path(os.fspath(path)).expanduser()
        bare = os.sep not in os.fspath(path) and (os.altsep is None or os.altsep not in os.fspath(path))
        if _idx._is_dir(NAME, p) or not p.name.lower().endswith(".npz"):
            files.append(p / FILE)
        else:
            fname = p.name
            if not bare:  # a bare file name, like Keras' default, names the file in the places below only
                files.append(p)
    dirs = _idx.candidate_dirs(NAME)  # [$PYNN_DATA/boston_housing/,] the cache
    files.extend(d / fname for d in dirs)
    return fname, files, dirs[-1]


def _read(p):
    """(x, y) from the .npz at p, checked (Note [Boston housing file])."""
    try:
        # the file is opened here, not by np.load, so that it is closed however np.load fails
        with open(p, "rb") as fh:
            f = np.load(fh, allow_pickle=False)
            if not isinstance(f, np.lib.npyio.NpzFile):
                raise DatasetError(f"{p}: a single .npy array, not an .npz archive with 'x' and 'y'")
            with f:
                missing = [k for k in ("x", "y") if k not in f.files]
                if missing:
                    raise DatasetError(f"{p}: the .npz has no {' and '.join(repr(k) for k in missing)} "
                                       f"(it holds {sorted(f.files)[:8]})")
                x, y = f["x"], f["y"]
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise DatasetError(f"{p}: not a readable .npz file ({type(e).__name__}: {e})") from None
    for name, a, ndim in (("x", x, 2), ("y", y, 1)):
        if a.ndim != ndim or a.dtype.kind not in "fiu":
            raise DatasetError(f"{p}: '{name}' must be a {ndim}-D numeric array; got shape {a.shape} "
                               f"dtype {a.dtype}")
    if len(x) != len(y):
        raise DatasetError(f"{p}: 'x' holds {len(x)} samples but 'y' {len(y)}")
    return x, y


def load_data(path=FILE, test_split=0.2, seed=113):
    """((x_train, y_train), (x_test, y_test)) as Keras 3's keras.datasets.boston_housing.load_data()
    gives them: the 506 samples shuffled with np.random.RandomState(seed).shuffle of their indices,
    the first int(506 * (1 - test_split)) for training and the rest for testing (404 and 102 with
    the defaults); x (n, 13) float64, y (n,) float64 (median values in k$), new C-contiguous arrays.
    test_split must be in [0, 1) (ValueError otherwise, as in Keras).

    The file is found, checked and downloaded as Note [Boston housing file] says; a file that is
    missing everywhere and cannot be downloaded, has the wrong sha256, or is not an .npz of 'x'
    and 'y' raises DatasetError (an OSError) naming the path.
    """
    if not (0 <= test_split < 1):
        raise ValueError(f"boston_housing.load_data: invalid `test_split` argument: {test_split}. "
                         f"It must be between 0 and 1 (exclusive of 1).")
    fname, files, cache = _candidates(path)
    found = next((f for f in files if _idx._is_file(NAME, f)), None)
    if found is None:
        errors = _idx._download_any([ORIGIN], cache / fname, SHA256)
        if errors is not None:
            looked = "\n  ".join(str(f) for f in files)
            tried = "\n  ".join(errors)
            raise DatasetError(
                f"{NAME}: {fname} was not found. Looked in:\n  {looked}\nDownload failed:\n  {tried}\n"
                f"Put Keras' {FILE} in a folder and pass the folder or the file as load_data(path=...), "
                f"or set PYNN_DATA to a folder holding {NAME}/.")
        found = cache / fname
    else:
        try:
            got = _idx.sha256(found)
        except OSError as e:
            raise DatasetError(f"{found}: cannot be read ({e.strerror or e})") from None
        if got != SHA256:
            raise DatasetError(f"{found}: sha256 {got} does not match the expected {SHA256} of Keras' "
                               f"{FILE}; remove it to download it again")
    x, y = _read(found)

    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    split = int(len(x) * (1 - test_split))
    return (np.array(x[:split]), np.array(y[:split])), (np.array(x[split:]), np.array(y[split:]))
