"""Runnable examples: ``python -m pynn.examples.mnist``."""
