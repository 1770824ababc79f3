"""Data sets: pynn.datasets.mnist.load_data(), pynn.datasets.fashion_mnist.load_data(),
pynn.datasets.cifar10.load_data(), pynn.datasets.boston_housing.load_data(),
pynn.datasets.imdb.load_data(), pynn.datasets.reuters.load_data()."""

from . import boston_housing, cifar10, fashion_mnist, imdb, mnist, reuters
from ._idx import DatasetError

__all__ = ["mnist", "fashion_mnist", "cifar10", "boston_housing", "imdb", "reuters", "DatasetError"]
