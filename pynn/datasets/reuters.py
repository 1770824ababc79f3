"""Reuters newswire topics: 11,228 newswires from Reuters-21578, each a list of word indices
(words ranked by frequency), labelled with one of 46 topics (get_label_names()), from the .npz
file Keras uses (Note [Word sequence files] in _text.py).

    (x_train, y_train), (x_test, y_test) = pynn.datasets.reuters.load_data(num_words=10000)
"""

import numpy as np

from . import _idx, _text

NAME = "reuters"
FILE = "reuters.npz"
ORIGIN = _text.ORIGIN_FOLDER + FILE
SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_FILE = "reuters_word_index.json"
WORD_INDEX_ORIGIN = _text.ORIGIN_FOLDER + WORD_INDEX_FILE
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"

LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi",
    "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal",
    "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc",
    "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path=FILE, num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113, start_char=1,
              oov_char=2, index_from=3):
    """((x_train, y_train), (x_test, y_test)) as Keras 3's keras.datasets.reuters.load_data gives them.

    The newswires are shuffled with np.random.RandomState(seed); every index becomes
    index + index_from, with start_char in front when it is not None; with maxlen, only sequences
    strictly shorter than maxlen are kept; indices outside [skip_top, num_words) become oov_char
    (dropped when oov_char is None), num_words=None meaning the largest index present (itself then
    out of range, as in Keras); the first int(n * (1 - test_split)) are the training set.
    test_split must be in [0, 1] (ValueError). x_*: object arrays of lists of ints
    (np.array(lists, dtype=object), as in Keras); y_*: integer topic arrays (0..45).

    The file is found, checked and downloaded as Note [Word sequence files] says; a missing,
    corrupt or hostile file raises DatasetError (an OSError) naming the path.
    """
    loader = "reuters.load_data"
    _text.check_options(loader, num_words, skip_top, maxlen, start_char, oov_char, index_from)
    if isinstance(test_split, bool) or not isinstance(test_split, (int, float, np.floating, np.integer)) \
            or not 0 <= test_split <= 1:
        raise ValueError(f"{loader}: `test_split` must be a number in [0, 1]; got {test_split!r}")
    found = _idx.find_file(NAME, FILE, path, [ORIGIN], SHA256, loader)
    [(xs, labels)] = _text.read(found, [("x", "y")])
    xs, labels = _text.shuffled(np.random.RandomState(seed), xs, labels)
    xs = _text.shift(xs, start_char, index_from)
    if maxlen:
        xs, labels = _text.drop_long(maxlen, xs, labels)
    xs = _text.limit_words(xs, num_words, skip_top, oov_char)
    idx = int(len(xs) * (1 - test_split))
    return ((np.array(xs[:idx], dtype="object"), np.array(labels[:idx])),
            (np.array(xs[idx:], dtype="object"), np.array(labels[idx:])))


def get_word_index(path=WORD_INDEX_FILE):
    """{word: index} of the Reuters word ranks (index i appears in load_data's sequences as
    i + index_from; 0, 1, 2 are padding, start and out-of-vocabulary by default). The JSON file is
    found like load_data's and checked against Keras' md5."""
    found = _idx.find_file(NAME, WORD_INDEX_FILE, path, [WORD_INDEX_ORIGIN], WORD_INDEX_MD5,
                           "reuters.get_word_index")
    return _text.read_word_index(found)


def get_label_names():
    """The 46 topic names, indexed as the labels (a tuple of strings, as Keras 3 returns)."""
    return LABEL_NAMES
