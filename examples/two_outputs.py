"""A functional model with two inputs and two outputs ("Deep Learning with Python", 7.1.3):
from a post's text features and its author's features, predict a score (regression) and a
topic (classification). Trained once with a list of losses and once with a dict of losses,
each with loss weights; the data are generated.

    python examples/two_outputs.py [--epochs 5]
"""

import argparse
import sys

import numpy as np

import pynn
from pynn import layers


def make_data(n=512, seed=0, text_dim=20, author_dim=6, topics=4):
    """Generated data with structure a model can learn: the topic and the score are functions of
    the two inputs."""
    rng = np.random.default_rng(seed)
    text = rng.normal(size=(n, text_dim)).astype("float32")
    author = rng.normal(size=(n, author_dim)).astype("float32")
    topic = np.argmax(text[:, :topics] + 0.5 * author[:, :topics], axis=1).astype("int64")
    score = (text[:, :3].sum(axis=1, keepdims=True) - author[:, :1]).astype("float32")
    return (text, author), (score, topic)


def build_model(text_dim=20, author_dim=6, topics=4):
    text = pynn.Input(shape=(text_dim,), name="text")
    author = pynn.Input(shape=(author_dim,), name="author")
    h = layers.Concatenate()([text, author])
    h = layers.Dense(32, activation="relu")(h)
    score = layers.Dense(1, name="score")(h)
    topic = layers.Dense(topics, activation="softmax", name="topic")(h)
    return pynn.Model([text, author], [score, topic])


def train(style="list", epochs=5, seed=0, verbose=0, **compile_options):
    """Builds, compiles (losses and loss weights as a list or as a dict by output name), fits
    and evaluates; returns (model, history, evaluate's dict)."""
    pynn.random.seed(seed)
    (text, author), (score, topic) = make_data(seed=seed)
    model = build_model()
    if style == "list":
        model.compile(optimizer="rmsprop", loss=["mse", "sparse_categorical_crossentropy"],
                      loss_weights=[0.25, 1.0], metrics=[["mae"], ["accuracy"]], **compile_options)
        y = [score, topic]
    elif style == "dict":
        model.compile(optimizer="rmsprop", loss={"score": "mse", "topic": "sparse_categorical_crossentropy"},
                      loss_weights={"score": 0.25, "topic": 1.0}, metrics={"score": "mae", "topic": "accuracy"},
                      **compile_options)
        y = {"score": score, "topic": topic}
    else:
        raise ValueError(f"two_outputs: style must be 'list' or 'dict', got {style!r}")
    history = model.fit([text, author], y, epochs=epochs, batch_size=32, validation_split=0.2, verbose=verbose)
    results = model.evaluate([text, author], y, verbose=0, return_dict=True)
    return model, history, results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args(argv)
    for style in ("list", "dict"):
        _, history, results = train(style, epochs=args.epochs, verbose=2)
        print(f"{style} losses: " + ", ".join(f"{k} {v:.4f}" for k, v in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
