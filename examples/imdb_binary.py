"""IMDB review sentiment, binary classification ("Deep Learning with Python", 3.4).

    PYNN_DATA=../shared/data python examples/imdb_binary.py [--epochs 20] [--help for the flags]

The program is pynn/examples/imdb.py (also `python -m pynn.examples.imdb`).
"""

import sys

from pynn.examples.imdb import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
