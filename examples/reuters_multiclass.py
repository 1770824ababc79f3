"""Reuters newswire topics, 46-class classification ("Deep Learning with Python", 3.5).

    PYNN_DATA=../shared/data python examples/reuters_multiclass.py [--epochs 20] [--help for the flags]

The program is pynn/examples/reuters.py (also `python -m pynn.examples.reuters`).
"""

import sys

from pynn.examples.reuters import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
