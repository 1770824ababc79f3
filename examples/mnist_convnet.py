"""Keras' simple MNIST convnet (test accuracy about 0.99 after 15 epochs).

    PYNN_DATA=../shared/data python examples/mnist_convnet.py [--epochs 15] [--threads N]

The program is pynn/examples/convnet.py (also `python -m pynn.examples.convnet`).
"""

import sys

from pynn.examples.convnet import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
