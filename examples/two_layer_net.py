"""The TwoLayerNet of "Deep Learning from Scratch" (chapter 5), written with pynn ops.

784 -> 50 (sigmoid) -> 10 with softmax-with-loss. Its gradient comes from a
GradientTape and is checked against the book's numerical gradient (central
differences, h = 1e-4) on a small batch, in float64: the mean absolute
difference per parameter must be tiny, as the book's gradient check shows.

Run: python examples/two_layer_net.py
"""

import numpy as np

import pynn


class TwoLayerNet:
    def __init__(self, input_size=784, hidden_size=50, output_size=10, weight_init_std=0.01, seed=0,
                 activation=pynn.sigmoid):
        rng = np.random.default_rng(seed)
        self.activation = activation
        self.params = {
            "W1": pynn.Variable(weight_init_std * rng.standard_normal((input_size, hidden_size))),
            "b1": pynn.Variable(np.zeros(hidden_size)),
            "W2": pynn.Variable(weight_init_std * rng.standard_normal((hidden_size, output_size))),
            "b2": pynn.Variable(np.zeros(output_size)),
        }

    def predict(self, x):
        p = self.params
        hidden = self.activation(x @ p["W1"] + p["b1"])
        return hidden @ p["W2"] + p["b2"]

    def loss(self, x, t):
        """Softmax with cross-entropy against one-hot targets t, averaged over the batch."""
        log_probabilities = pynn.log_softmax(self.predict(x), axis=1)
        return -pynn.sum(t * log_probabilities) / x.shape[0]

    def accuracy(self, x, t):
        return float(np.mean(np.asarray(pynn.argmax(self.predict(x), axis=1)) == np.argmax(np.asarray(t), axis=1)))

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


def gradient_check(batch=3, seed=0, activation=pynn.sigmoid):
    """Mean |backprop - numerical| per parameter, on random inputs in [0, 1]."""
    rng = np.random.default_rng(seed)
    x = pynn.tensor(rng.random((batch, 784)))
    t = pynn.tensor(np.eye(10)[rng.integers(0, 10, batch)])
    net = TwoLayerNet(seed=seed, activation=activation)
    backprop = net.gradient(x, t)
    numerical = net.numerical_gradient(x, t)
    return {name: float(np.mean(np.abs(np.asarray(backprop[name]) - numerical[name]))) for name in net.params}


if __name__ == "__main__":
    for name, diff in gradient_check().items():
        print(f"{name}: mean |backprop - numerical| = {diff:.3e}")
