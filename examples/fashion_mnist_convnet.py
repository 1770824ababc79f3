"""Keras' simple MNIST convnet on Fashion-MNIST (clothing images instead of digits).

    PYNN_DATA=../shared/data python examples/fashion_mnist_convnet.py [--epochs 15]

Same program as examples/mnist_convnet.py (pynn/examples/convnet.py), other data set.
"""

import sys

from pynn.examples.convnet import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], dataset="fashion_mnist"))
