"""The chapter-2 network on Fashion-MNIST (clothing images instead of digits).

    PYNN_DATA=../shared/data python examples/fashion_mnist_mlp.py [--epochs 5]

Same program as examples/mnist_mlp.py (pynn/examples/mnist.py), other data set.
"""

import sys

from pynn.examples.mnist import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], dataset="fashion_mnist"))
