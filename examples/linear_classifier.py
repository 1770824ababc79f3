"""TensorFlow's "first principles" linear classifier, on pynn.

Two Gaussian clouds of 1000 points (means (0, 3) and (3, 0), covariance
[[1, 0.5], [0.5, 1]]), a linear model W x + b trained on the square loss with
40 full-batch steps of plain gradient descent (learning rate 0.1), the
gradients from a GradientTape.

Run: python examples/linear_classifier.py
"""

import numpy as np

import pynn


def make_data(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    cov = [[1.0, 0.5], [0.5, 1.0]]
    negative = rng.multivariate_normal([0.0, 3.0], cov, n)
    positive = rng.multivariate_normal([3.0, 0.0], cov, n)
    inputs = np.vstack([negative, positive]).astype(np.float32)
    targets = np.vstack([np.zeros((n, 1)), np.ones((n, 1))]).astype(np.float32)
    return inputs, targets


def train(steps=40, learning_rate=0.1, seed=0, verbose=True):
    inputs, targets = make_data(seed=seed)
    x, y = pynn.tensor(inputs), pynn.tensor(targets)
    rng = np.random.default_rng(seed)
    W = pynn.Variable(rng.uniform(size=(2, 1)).astype(np.float32), name="W")
    b = pynn.Variable(np.zeros(1, np.float32), name="b")
    for step in range(steps):
        with pynn.GradientTape() as tape:
            predictions = x @ W + b
            loss = pynn.mean(pynn.square(predictions - y))
        grad_W, grad_b = tape.gradient(loss, [W, b])
        W.assign_sub(grad_W * learning_rate)
        b.assign_sub(grad_b * learning_rate)
        if verbose and (step % 10 == 9 or step == 0):
            print(f"step {step + 1:2d}: loss {float(loss):.4f}")
    predicted = np.asarray(x @ W + b) > 0.5
    accuracy = float(np.mean(predicted == (targets > 0.5)))
    return accuracy, float(loss)


if __name__ == "__main__":
    accuracy, loss = train()
    print(f"accuracy after 40 steps: {accuracy:.4f}")
