"""A small Keras-style convnet on CIFAR-10 (32x32 colour images, 10 classes).

    PYNN_DATA=/path/to/data python examples/cifar10_convnet.py [--epochs 15] [--limit N] [--threads N]

$PYNN_DATA/cifar10/ holds cifar-10-python.tar.gz or its extracted cifar-10-batches-py/
folder (else it is downloaded into ~/.cache/pynn/cifar10/). The program is
pynn/examples/cifar10.py (also `python -m pynn.examples.cifar10`).
"""

import sys

from pynn.examples.cifar10 import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
