"""IMDB movie review sentiment (Maas et al., 2011): 25,000 training and 25,000 test reviews, each
a list of word indices (words ranked by frequency in the training set), labelled 1 (positive) or
0 (negative), from the .npz file Keras uses (Note [Word sequence files] in _text.py).

    (x_train, y_train), (x_test, y_test) = pynn.datasets.imdb.load_data(num_words=10000)
"""

import numpy as np

from . import _idx, _text

NAME = "imdb"
FILE = "imdb.npz"
ORIGIN = _text.ORIGIN_FOLDER + FILE
SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_FILE = "imdb_word_index.json"
WORD_INDEX_ORIGIN = _text.ORIGIN_FOLDER + WORD_INDEX_FILE
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(path=FILE, num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3, **kwargs):
    """((x_train, y_train), (x_test, y_test)) as Keras 3's keras.datasets.imdb.load_data gives them.

    Both sets are shuffled with one np.random.RandomState(seed) (training first); every index
    becomes index + index_from, with start_char in front when it is not None; with maxlen, only
    sequences strictly shorter than maxlen are kept (ValueError when none are left in a set);
    indices outside [skip_top, num_words) become oov_char (dropped when oov_char is None), and
    num_words=None means the largest index present (itself then out of range, as in Keras).
    x_*: object arrays of lists of ints (np.array(lists, dtype=object), so 2-D when every
    sequence has the same length, as in Keras); y_*: integer label arrays. Other keyword
    arguments are accepted and ignored, as Keras 3 does.

    The file is found, checked and downloaded as Note [Word sequence files] says; a missing,
    corrupt or hostile file raises DatasetError (an OSError) naming the path.
    """
    loader = "imdb.load_data"
    _text.check_options(loader, num_words, skip_top, maxlen, start_char, oov_char, index_from)
    found = _idx.find_file(NAME, FILE, path, [ORIGIN], SHA256, loader)
    (x_train, labels_train), (x_test, labels_test) = _text.read(found, [("x_train", "y_train"),
                                                                        ("x_test", "y_test")])
    rng = np.random.RandomState(seed)
    x_train, labels_train = _text.shuffled(rng, x_train, labels_train)
    x_test, labels_test = _text.shuffled(rng, x_test, labels_test)

    x_train = _text.shift(x_train, start_char, index_from)
    x_test = _text.shift(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _text.drop_long(maxlen, x_train, labels_train)
        x_test, labels_test = _text.drop_long(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"{loader}: after filtering for sequences shorter than maxlen={maxlen}, no "
                             f"sequence was kept. Increase maxlen.")
    xs = _text.limit_words(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    idx = len(x_train)
    return ((np.array(xs[:idx], dtype="object"), labels[:idx]),
            (np.array(xs[idx:], dtype="object"), labels[idx:]))


def get_word_index(path=WORD_INDEX_FILE):
    """{word: index} of the IMDB word ranks (an index i appears in load_data's sequences as
    i + index_from). The JSON file is found like load_data's and checked against Keras' md5."""
    found = _idx.find_file(NAME, WORD_INDEX_FILE, path, [WORD_INDEX_ORIGIN], WORD_INDEX_MD5,
                           "imdb.get_word_index")
    return _text.read_word_index(found)
