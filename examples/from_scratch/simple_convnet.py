"""The SimpleConvNet of "Deep Learning from Scratch" (chapter 7), written with pynn ops.

conv (30 filters, 5x5, stride 1, no padding) - relu - max pool (2x2, stride 2) -
affine (100) - relu - affine (10) - softmax with loss, on (N, 1, 28, 28) images
(channels first, as the book). The gradient comes from a GradientTape and is
checked against the book's numerical gradient (central differences, h = 1e-4)
in float64 on a small network; `train` fits it on MNIST with plain SGD updates
written by hand, as the book's Trainer does with its optimizers.

Run: python examples/from_scratch/simple_convnet.py [--train]
"""

import sys

import numpy as np

import pynn
from pynn import ops


class SimpleConvNet:
    def __init__(self, input_dim=(1, 28, 28), filter_num=30, filter_size=5, hidden_size=100, output_size=10,
                 weight_init_std=0.01, seed=0, dtype="float64"):
        rng = np.random.default_rng(seed)
        channels, size = input_dim[0], input_dim[1]
        conv_out = size - filter_size + 1
        pool_out = conv_out // 2
        std = weight_init_std

        def param(*shape):
            return pynn.Variable((std * rng.standard_normal(shape)).astype(dtype))

        # The book keeps filters as (FN, C, FH, FW); pynn (as Keras) as (FH, FW, C, FN).
        self.params = {
            "W1": param(filter_size, filter_size, channels, filter_num),
            "b1": pynn.Variable(np.zeros(filter_num, dtype)),
            "W2": param(filter_num * pool_out * pool_out, hidden_size),
            "b2": pynn.Variable(np.zeros(hidden_size, dtype)),
            "W3": param(hidden_size, output_size),
            "b3": pynn.Variable(np.zeros(output_size, dtype)),
        }

    def predict(self, x):
        p = self.params
        h = ops.conv2d(x, p["W1"], p["b1"], data_format="channels_first", activation="relu")
        h = ops.max_pool2d(h, pool_size=2, strides=2, data_format="channels_first")
        h = ops.reshape(h, (h.shape[0], -1))
        h = ops.relu(h @ p["W2"] + p["b2"])
        return h @ p["W3"] + p["b3"]

    def loss(self, x, t):
        """Softmax with cross-entropy against integer labels t, averaged over the batch."""
        return ops.mean(ops.softmax_cross_entropy(self.predict(x), t))

    def accuracy(self, x, t, batch_size=500):
        hits = 0
        for i in range(0, len(x), batch_size):
            hits += int(np.sum(np.asarray(ops.argmax(self.predict(x[i:i + batch_size]), axis=1)) == t[i:i + batch_size]))
        return hits / len(x)

    def gradient(self, x, t):
        """Backpropagation, by the tape."""
        with pynn.GradientTape() as tape:
            loss = self.loss(x, t)
        return tape.gradient(loss, self.params)

    def numerical_gradient(self, x, t, h=1e-4):
        """The book's central differences, one parameter element at a time."""
        grads = {}
        with pynn.no_grad():
            for name, param in self.params.items():
                values = param.numpy()  # shares memory: writing it perturbs the parameter
                grad = np.zeros_like(values)
                for index in np.ndindex(values.shape):
                    old = values[index]
                    values[index] = old + h
                    up = float(self.loss(x, t))
                    values[index] = old - h
                    down = float(self.loss(x, t))
                    values[index] = old
                    grad[index] = (up - down) / (2 * h)
                grads[name] = grad
        return grads


def gradient_check(batch=2, seed=0):
    """Max |backprop - numerical| per parameter for a small SimpleConvNet (10x10 inputs, 3 filters of 3x3,
    hidden 10), as the book's gradient_check_simpleconvnet.py does, in float64; weights larger than the
    book's 0.01 so that the gradients are not all tiny."""
    rng = np.random.default_rng(seed)
    x = pynn.tensor(rng.random((batch, 1, 10, 10)))
    t = pynn.tensor(rng.integers(0, 10, batch))
    net = SimpleConvNet(input_dim=(1, 10, 10), filter_num=3, filter_size=3, hidden_size=10, weight_init_std=0.3,
                        seed=seed)
    backprop = net.gradient(x, t)
    numerical = net.numerical_gradient(x, t)
    return {name: float(np.max(np.abs(np.asarray(backprop[name]) - numerical[name]))) for name in net.params}


def train(epochs=1, batch_size=100, lr=0.1, limit=None, seed=0, verbose=True):
    """Plain minibatch SGD on MNIST (float32); returns the test accuracy."""
    (x_train, t_train), (x_test, t_test) = pynn.datasets.mnist.load_data()
    if limit:
        x_train, t_train = x_train[:limit], t_train[:limit]
    x_train = (x_train.astype("float32") / 255)[:, None]
    x_test = (x_test.astype("float32") / 255)[:, None]
    net = SimpleConvNet(seed=seed, dtype="float32")
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(len(x_train))
        for i in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[i:i + batch_size]
            grads = net.gradient(pynn.tensor(x_train[idx]), pynn.tensor(t_train[idx].astype("int64")))
            for name, param in net.params.items():
                param.assign_sub(grads[name] * lr)
        if verbose:
            print(f"epoch {epoch + 1}: test accuracy {net.accuracy(x_test, t_test):.4f}")
    return net.accuracy(x_test, t_test)


if __name__ == "__main__":
    for name, diff in gradient_check().items():
        print(f"{name}: max |backprop - numerical| = {diff:.3e}")
    if "--train" in sys.argv:
        train()
