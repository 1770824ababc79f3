"""What the example programs' command lines share: the common flags (--epochs, --batch-size,
--seed, --threads, and --limit where a program takes it), the thread count, and the exit
convention: a data set that cannot be found prints where it was looked for and exits 1."""

import argparse
import sys

import pynn


def parser(doc, epochs, batch_size, limit=False):
    """An argument parser described by the first line of `doc`, with the common flags."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=batch_size)
    p.add_argument("--threads", type=int, default=None, help="pynn threads (default: all cores)")
    p.add_argument("--seed", type=int, default=0)
    if limit:
        p.add_argument("--limit", type=int, default=None, help="train on the first N samples only")
    return p


def main(p, argv, train):
    """Parses argv, sets the threads, runs train(args) and prints the line it returns (if any);
    0, or 1 with the error when the data cannot be read."""
    args = p.parse_args(argv)
    if args.threads:
        pynn.set_num_threads(args.threads)
    try:
        line = train(args)
    except OSError as e:  # FileNotFoundError and DatasetError included
        print(f"error: {e}", file=sys.stderr)
        return 1
    if line:
        print(line)
    return 0
