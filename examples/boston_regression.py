"""Boston housing regression with 4-fold validation ("Deep Learning with Python", 3.6).

    PYNN_DATA=../shared/data python examples/boston_regression.py [--epochs 100] [--folds 4]

The program is pynn/examples/boston.py (also `python -m pynn.examples.boston`).
"""

import sys

from pynn.examples.boston import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
