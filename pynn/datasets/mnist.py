"""MNIST handwritten digits: 60000 training and 10000 test images, 28x28 uint8, labels 0-9."""

from . import _idx

# sha256 of the canonical files (see ../shared/data/README.md).
CHECKSUMS = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)) as uint8 NumPy arrays, Keras' layout.

    Files are read from `path`, else $PYNN_DATA/mnist/, else ~/.cache/pynn/mnist/,
    and downloaded into the cache (sha256-checked) when missing everywhere.
    """
    return _idx.load("mnist", CHECKSUMS, MIRRORS, path)
