"""Data sets: pynn.datasets.mnist.load_data(), pynn.datasets.fashion_mnist.load_data()."""

from . import fashion_mnist, mnist
from ._idx import DatasetError

__all__ = ["mnist", "fashion_mnist", "DatasetError"]
