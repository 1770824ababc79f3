"""What the IMDB and Reuters loaders share: reading their .npz of word-index sequences and JSON
word indexes, and Keras 3's preprocessing of the sequences.

Note [Word sequence files]
imdb.npz holds x_train, y_train, x_test, y_test; reuters.npz holds x, y. Each x
is a 1-D object array whose items are lists of word ranks (ints >= 0, 0 the
most frequent word of the training set), each y a 1-D integer array of labels.
Object arrays exist in .npy only as pickles, read through the restricted
unpickler (Note [Restricted unpickling] in _idx.py). The word indexes are JSON
objects {word: rank}, read with json.load. Files are found, checked against
Keras' hashes (sha256 for the .npz, md5 for the JSON, as Keras' get_file) and
downloaded as Note [Boston housing file] says for `path`.
"""

import json

import numpy as np

from . import _idx
from ._idx import DatasetError

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def _sequences(x, where, key):
    """x (the file's object array) as a list of lists of Python ints >= 0, checked."""
    if not isinstance(x, np.ndarray) or x.ndim != 1:
        raise DatasetError(f"{where}: '{key}' must be a 1-D array of word-index lists; got "
                           f"{'shape ' + str(x.shape) if isinstance(x, np.ndarray) else type(x).__name__}")
    out = []
    for i, seq in enumerate(x):
        if isinstance(seq, np.ndarray) and seq.ndim == 1 and seq.dtype.kind in "iu":
            seq = seq.tolist()
        if not isinstance(seq, (list, tuple)):
            raise DatasetError(f"{where}: '{key}'[{i}] must be a list of word indices; got {type(seq).__name__}")
        for w in seq:
            if type(w) is not int or w < 0:
                raise DatasetError(f"{where}: '{key}'[{i}] holds {w!r}; word indices are ints >= 0")
        out.append(list(seq))
    return out


def _labels(y, n, where, key):
    if not (isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "iu"):
        got = f"shape {y.shape} dtype {y.dtype}" if isinstance(y, np.ndarray) else type(y).__name__
        raise DatasetError(f"{where}: '{key}' must be a 1-D integer array of labels; got {got}")
    if len(y) != n:
        raise DatasetError(f"{where}: {n} sequences but '{key}' holds {len(y)} labels")
    return y


def read(path, pairs):
    """[(sequences, labels)] for each (x key, y key) of pairs from the .npz at path (Note [Word
    sequence files])."""
    arrays = _idx.read_npz(path)
    missing = [k for pair in pairs for k in pair if k not in arrays]
    if missing:
        raise DatasetError(f"{path}: the .npz has no {' and '.join(repr(k) for k in missing)} "
                           f"(it holds {sorted(arrays)[:8]})")
    out = []
    for kx, ky in pairs:
        xs = _sequences(arrays[kx], path, kx)
        out.append((xs, _labels(arrays[ky], len(xs), path, ky)))
    return out


def read_word_index(path):
    """The {word: index} dict of the JSON file at path, checked."""
    try:
        with open(path, encoding="utf-8") as f:
            index = json.load(f)
    except (OSError, ValueError) as e:
        raise DatasetError(f"{path}: not a readable JSON word index ({type(e).__name__}: {e})") from None
    if not isinstance(index, dict) or not all(type(v) is int for v in index.values()):
        raise DatasetError(f"{path}: a word index is a JSON object mapping words to integer indices")
    return index


def _check_int(loader, name, value, allow_none):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{loader}: `{name}` must be an int{' or None' if allow_none else ''}; got {value!r}")


def check_options(loader, num_words, skip_top, maxlen, start_char, oov_char, index_from):
    for name, value, allow_none in (("num_words", num_words, True), ("skip_top", skip_top, False),
                                    ("maxlen", maxlen, True), ("start_char", start_char, True),
                                    ("oov_char", oov_char, True), ("index_from", index_from, False)):
        _check_int(loader, name, value, allow_none)


def shift(xs, start_char, index_from):
    """Keras: every index + index_from, start_char in front when it is not None."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    return [[w + index_from for w in x] for x in xs]


def drop_long(maxlen, xs, labels):
    """Keras' remove_long_seq: only the sequences strictly shorter than maxlen, with their labels."""
    keep = [i for i, x in enumerate(xs) if len(x) < maxlen]
    return [xs[i] for i in keep], [labels[i] for i in keep]


def limit_words(xs, num_words, skip_top, oov_char):
    """Keras: indices outside [skip_top, num_words) become oov_char (or are dropped when oov_char is
    None); num_words falsy means the largest index present (which then counts as out of range, as
    in Keras)."""
    if not num_words:
        present = [max(x) for x in xs if x]
        if not present:
            raise ValueError("load_data: every sequence is empty, so num_words cannot default to the "
                             "largest word index; pass num_words")
        num_words = max(present)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def shuffled(rng, xs, labels):
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    return [xs[i] for i in indices], labels[indices]
