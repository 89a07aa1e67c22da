"""Perceptron logic gates with the lectures' hand-set weights, the trainable perceptron,
the XOR MLPs of L001 and the circle feature-map classifier of L003."""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_lecture_zoo.zoo.layers import QuadraticFeatures, Step
from keras_lecture_zoo.zoo.registry import register_model
from keras_lecture_zoo.zoo.validation import check_activation, check_name, check_positive_int

__all__ = [
    "threshold_unit",
    "and_gate",
    "or_gate",
    "nand_gate",
    "not_gate",
    "and3_sigmoid",
    "festival_a",
    "festival_b",
    "Perceptron",
    "perceptron",
    "xor_initializer",
    "xor_mlp",
    "xor_model1",
    "xor_model2",
    "xor_model3",
    "circle_classifier",
]


def threshold_unit(weights, bias, *, activation="step", name="threshold_unit"):
    """One unit y = h(w·x + b) with fixed hand-set ``weights`` and ``bias``.

    ``activation="step"`` uses h(z) = 1 if z >= 0 else 0; any other value is a
    Keras activation applied to z (the lectures' sigmoid neuron uses "sigmoid").
    """
    w = np.asarray(weights, dtype="float32").reshape(-1, 1)
    if w.size == 0:
        raise ValueError("`weights` must hold at least one value.")
    inputs = keras.Input(shape=(w.shape[0],), name="x")
    z = keras.layers.Dense(
        1,
        kernel_initializer=keras.initializers.Constant(w),
        bias_initializer=keras.initializers.Constant(float(bias)),
        name="z",
    )(inputs)
    if activation == "step":
        y = Step(name="step")(z)
    else:
        y = keras.layers.Activation(check_activation(activation), name=str(activation))(z)
    return keras.Model(inputs, y, name=name)


@register_model(lecture="L001", family="gates")
def and_gate(name=None):
    """AND perceptron: w=(1,1), b=-2, step activation (z = -2,-1,-1,0 → 0,0,0,1)."""
    return threshold_unit((1, 1), -2, name=check_name(name, "and_gate"))


@register_model(lecture="L001", family="gates")
def or_gate(name=None):
    """OR perceptron: w=(1,1), b=-1, step activation (z = -1,0,0,1 → 0,1,1,1)."""
    return threshold_unit((1, 1), -1, name=check_name(name, "or_gate"))


@register_model(lecture="L001", family="gates")
def nand_gate(name=None):
    """NAND perceptron: w=(-2,-2), b=3 (Nielsen's NAND, which the L001 notes follow)."""
    return threshold_unit((-2, -2), 3, name=check_name(name, "nand_gate"))


@register_model(lecture="L001", family="gates")
def not_gate(name=None):
    """NOT perceptron: w=(-1,), b=0, step activation (0 → 1, 1 → 0)."""
    return threshold_unit((-1,), 0, name=check_name(name, "not_gate"))


@register_model(lecture="L003", family="gates")
def and3_sigmoid(name=None):
    """3-input sigmoid AND: w=(1,1,1), b=-2.5; σ(z) = 0.076 … 0.622 (L003 table)."""
    return threshold_unit((1, 1, 1), -2.5, activation="sigmoid", name=check_name(name, "and3_sigmoid"))


@register_model(lecture="L001", family="gates")
def festival_a(name=None):
    """Cheese-festival decision (a): w=(1,1,1), threshold 2: yes iff at least two factors."""
    return threshold_unit((1, 1, 1), -2, name=check_name(name, "festival_a"))


@register_model(lecture="L001", family="gates")
def festival_b(name=None):
    """Cheese-festival decision (b): w=(1,1,10), threshold 11: yes iff factor 3 and one other."""
    return threshold_unit((1, 1, 10), -11, name=check_name(name, "festival_b"))


@keras.saving.register_keras_serializable(package="zoo")
class Perceptron(keras.Model):
    """A trainable threshold unit whose ``fit`` applies the Rosenblatt rule Δw = η(t − o)x.

    With ``batch_size=1, shuffle=False`` this is the classical online rule of L000;
    a larger batch sums the updates of the batch. Targets are ±1 when ``bipolar``
    (the lecture's form), else 0/1. The ``errors`` metric counts misclassified samples
    seen in the epoch, so an epoch with ``errors == 0`` means the rule has converged.
    """

    def __init__(self, input_dim=2, learning_rate=1.0, bipolar=True, kernel_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.input_dim = check_positive_int(input_dim, "input_dim")
        if not isinstance(learning_rate, (int, float)) or isinstance(learning_rate, bool) or learning_rate <= 0:
            raise ValueError(f"`learning_rate` must be a positive number, got {learning_rate!r}.")
        self.learning_rate = float(learning_rate)
        self.bipolar = bool(bipolar)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.dense = keras.layers.Dense(1, kernel_initializer=self.kernel_initializer, name="z")
        self.step = Step(low=-1.0 if self.bipolar else 0.0, name="step")
        self.errors_tracker = keras.metrics.Sum(name="errors")
        self.build((None, self.input_dim))

    def build(self, input_shape):
        self.dense.build(input_shape)
        self.step.build(self.dense.compute_output_shape(input_shape))
        self.built = True

    def call(self, inputs):
        return self.step(self.dense(inputs))

    @property
    def input_shape(self):
        return (None, self.input_dim)

    @property
    def output_shape(self):
        return (None, 1)

    @property
    def metrics(self):
        return [self.errors_tracker]

    def compile(self, optimizer=None, **kwargs):
        """Compile without an optimizer: the update rule lives in ``train_step``."""
        super().compile(optimizer=optimizer or "sgd", **kwargs)

    # Keras' JAX trainer calls train_step(state, data) and test_step(state, data) with the variables'
    # values and expects the new ones back; the other backends call them with data alone.
    def train_step(self, *args):
        return self._on_backend(self._rule_step, args, with_optimizer=True)

    def test_step(self, *args):
        return self._on_backend(self._count_step, args, with_optimizer=False)

    def _on_backend(self, step, args, with_optimizer):
        if keras.backend.backend() != "jax":
            return step(*args)
        state, data = args
        trainable, non_trainable, *rest = state
        metrics_values = rest[-1]
        mapping = [
            *zip(self.trainable_variables, trainable),
            *zip(self.non_trainable_variables, non_trainable),
            *zip(self.metrics_variables, metrics_values),
        ]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            logs = step(data)
        trainable = [scope.get_current_value(v) for v in self.trainable_variables]
        metrics_values = [scope.get_current_value(v) for v in self.metrics_variables]
        return logs, (
            (trainable, non_trainable, rest[0], metrics_values)
            if with_optimizer
            else (trainable, non_trainable, metrics_values)
        )

    def _rule_step(self, data):
        x, t, _ = keras.utils.unpack_x_y_sample_weight(data)
        x = ops.cast(x, self.compute_dtype)
        t = ops.reshape(ops.cast(t, self.compute_dtype), (-1, 1))
        o = self(x, training=True)
        delta = self.learning_rate * (t - o)
        self.dense.kernel.assign_add(ops.matmul(ops.transpose(x), delta))
        self.dense.bias.assign_add(ops.sum(delta, axis=0))
        self.errors_tracker.update_state(ops.sum(ops.cast(ops.not_equal(t, o), "float32")))
        return {"errors": self.errors_tracker.result()}

    def _count_step(self, data):
        x, t, _ = keras.utils.unpack_x_y_sample_weight(data)
        o = self(ops.cast(x, self.compute_dtype), training=False)
        t = ops.reshape(ops.cast(t, self.compute_dtype), (-1, 1))
        self.errors_tracker.update_state(ops.sum(ops.cast(ops.not_equal(t, o), "float32")))
        return {"errors": self.errors_tracker.result()}

    def get_config(self):
        return {
            "input_dim": self.input_dim,
            "learning_rate": self.learning_rate,
            "bipolar": self.bipolar,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["kernel_initializer"] = keras.initializers.deserialize(config["kernel_initializer"])
        return cls(**config)


@register_model(lecture="L000", family="gates")
def perceptron(input_dim=2, learning_rate=1.0, bipolar=True, kernel_initializer="zeros", name=None):
    """Trainable perceptron (Rosenblatt rule in ``fit``), ±1 outputs by default."""
    return Perceptron(
        input_dim=input_dim,
        learning_rate=learning_rate,
        bipolar=bipolar,
        kernel_initializer=kernel_initializer,
        name=check_name(name, "perceptron"),
    )


def xor_initializer(seed=None):
    """L001's XOR hidden-layer kernel initializer: N(0.75, 0.01²), nearly symmetric on purpose."""
    return keras.initializers.RandomNormal(mean=0.75, stddev=0.01, seed=seed)


@register_model(lecture="L001", family="gates")
def xor_mlp(
    hidden_units=2,
    hidden_activation="sigmoid",
    kernel_initializer=None,
    classifier_activation="sigmoid",
    seed=None,
    name=None,
):
    """XOR MLP 2 → hidden → 1 of L001; the hidden kernel starts at N(0.75, 0.01) by default.

    ``seed`` makes both initializers deterministic (the output layer keeps Keras's
    default Glorot-uniform, as in the lecture).
    """
    hidden_units = check_positive_int(hidden_units, "hidden_units")
    hidden_activation = check_activation(hidden_activation, "hidden_activation")
    if seed is not None:
        seed = check_positive_int(seed, "seed", minimum=0)
    init = kernel_initializer if kernel_initializer is not None else xor_initializer(seed)
    out_seed = None if seed is None else seed + 1
    inputs = keras.Input(shape=(2,), name="x")
    h = keras.layers.Dense(hidden_units, activation=hidden_activation, kernel_initializer=init, name="hidden")(inputs)
    y = keras.layers.Dense(
        1,
        activation=check_activation(classifier_activation, "classifier_activation"),
        kernel_initializer=keras.initializers.GlorotUniform(seed=out_seed),
        name="output",
    )(h)
    return keras.Model(inputs, y, name=check_name(name, "xor_mlp"))


@register_model(lecture="L001", family="gates", expected_params=9)
def xor_model1(seed=None, name=None):
    """L001 XOR Model 1: Dense(2, sigmoid, N(0.75, 0.01)) → Dense(1, sigmoid)."""
    return xor_mlp(2, "sigmoid", seed=seed, name=check_name(name, "xor_model1"))


@register_model(lecture="L001", family="gates", expected_params=9)
def xor_model2(seed=None, name=None):
    """L001 XOR Model 2: Dense(2, relu, N(0.75, 0.01)) → Dense(1, sigmoid)."""
    return xor_mlp(2, "relu", seed=seed, name=check_name(name, "xor_model2"))


@register_model(lecture="L001", family="gates", expected_params=13)
def xor_model3(seed=None, name=None):
    """L001 XOR Model 3: Dense(3, relu, N(0.75, 0.01)) → Dense(1, sigmoid)."""
    return xor_mlp(3, "relu", seed=seed, name=check_name(name, "xor_model3"))


@register_model(lecture="L003", family="gates")
def circle_classifier(radius=1.0, name=None):
    """L003's circle classifier: features (x, y, x², y²), weights (0,0,1,1) and bias r².

    Outputs 1 where x² + y² <= r² (the lecture's "positive where wᵀv < 0", with the
    sign folded into the weights so the step unit fires inside the circle).
    """
    if not isinstance(radius, (int, float)) or isinstance(radius, bool) or radius <= 0:
        raise ValueError(f"`radius` must be a positive number, got {radius!r}.")
    inputs = keras.Input(shape=(2,), name="xy")
    v = QuadraticFeatures(name="features")(inputs)
    z = keras.layers.Dense(
        1,
        kernel_initializer=keras.initializers.Constant(np.array([[0.0], [0.0], [-1.0], [-1.0]], "float32")),
        bias_initializer=keras.initializers.Constant(float(radius) ** 2),
        name="z",
    )(v)
    return keras.Model(inputs, Step(name="step")(z), name=check_name(name, "circle_classifier"))
