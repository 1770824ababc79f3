"""Chapter 2 of "Deep Learning with Python" on pynn: MNIST with a two-layer network.

    PYNN_DATA=../shared/data python examples/mnist_mlp.py [--epochs 5] [--batch-size 128] [--threads N]

The program itself is pynn/examples/mnist.py (so it also runs as
``python -m pynn.examples.mnist``): build_model() is the book's network, run()
its training and evaluation.
"""

import sys

from pynn.examples.mnist import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], dataset="mnist"))
