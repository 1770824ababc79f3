"""BatchNormalization."""

from .. import constraints, initializers, ops, regularizers
from ..autograd import no_grad
from .base import Layer, check_real, register, shape_str

__all__ = ["BatchNormalization"]


@register
class BatchNormalization(Layer):
    """Normalizes over every axis but `axis` (Keras 3 rule).

    Training: y = gamma * (x - mean) / sqrt(var + epsilon) + beta with the batch's mean and
    (biased) variance, and moving_stat = momentum * moving_stat + (1 - momentum) * batch_stat.
    Inference, and a layer with trainable=False: the moving statistics instead. gamma and
    beta are trained; the moving statistics are non-trainable weights. The math is one
    fused op, ops.batch_norm (Note [Batch norm] in csrc/kernels/norm.h), forward and backward.
    beta_regularizer / gamma_regularizer and beta_constraint / gamma_constraint act on beta
    and gamma as on any weight (Note [Layer losses] in base.py).
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int):
            raise TypeError(f"BatchNormalization: axis must be an int, got {axis!r}")
        check_real("BatchNormalization", "momentum", momentum)
        check_real("BatchNormalization", "epsilon", epsilon)
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1], got {momentum}")
        if epsilon <= 0:
            raise ValueError(f"BatchNormalization: epsilon must be positive, got {epsilon}")
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = None

    def build(self, input_shape):
        if isinstance(input_shape, list):
            raise ValueError(f"{self.name} (BatchNormalization) takes one input, got {len(input_shape)}")
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"{self.name} (BatchNormalization): axis {self.axis} is out of range for input shape "
                             f"{shape_str(input_shape)}")
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"{self.name} (BatchNormalization): axis {self.axis} of the input must be known, got "
                             f"input shape {shape_str(input_shape)}")
        if self.scale:
            self.gamma = self.add_weight((dim,), self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight((dim,), self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint)
        self.moving_mean = self.add_weight((dim,), self.moving_mean_initializer, name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight((dim,), self.moving_variance_initializer, name="moving_variance",
                                               trainable=False)

    def call(self, inputs, training=None):
        x = inputs
        if not -x.ndim <= self.axis < x.ndim:  # built for another rank (e.g. called on a scalar)
            raise ValueError(f"{self.name} (BatchNormalization): axis {self.axis} is out of range for input shape "
                             f"{shape_str(x.shape)}")
        axis = self.axis % x.ndim
        if x.shape[axis] != self.moving_mean.shape[0]:
            raise ValueError(f"{self.name} (BatchNormalization): input shape {x.shape} has {x.shape[axis]} features "
                             f"on axis {self.axis}, the layer was built for {self.moving_mean.shape[0]}")
        if training and self.trainable:
            y, mean, var = ops.batch_norm(x, axis, self.gamma, self.beta, self.epsilon, training=True)
            with no_grad():
                m = self.momentum
                self.moving_mean.assign(self.moving_mean * m + mean * (1 - m))
                self.moving_variance.assign(self.moving_variance * m + var * (1 - m))
        else:
            y, _, _ = ops.batch_norm(x, axis, self.gamma, self.beta, self.epsilon, training=False,
                                     moving_mean=self.moving_mean, moving_variance=self.moving_variance)
        return y

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return dict(super().get_config(), axis=self.axis, momentum=self.momentum, epsilon=self.epsilon,
                    center=self.center, scale=self.scale,
                    beta_initializer=initializers.serialize(self.beta_initializer),
                    gamma_initializer=initializers.serialize(self.gamma_initializer),
                    moving_mean_initializer=initializers.serialize(self.moving_mean_initializer),
                    moving_variance_initializer=initializers.serialize(self.moving_variance_initializer),
                    beta_regularizer=regularizers.serialize(self.beta_regularizer),
                    gamma_regularizer=regularizers.serialize(self.gamma_regularizer),
                    beta_constraint=constraints.serialize(self.beta_constraint),
                    gamma_constraint=constraints.serialize(self.gamma_constraint))
