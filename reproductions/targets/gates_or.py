"""gates.or: the L001 OR perceptron, w=(1,1), b=-1, step activation. Exact, no training."""

from keras_lecture_zoo.reproductions.targets._gates import perceptron_gate

TARGET = perceptron_gate(
    "or",
    z={"00": -1, "01": 0, "10": 0, "11": 1},
    y={"00": 0, "01": 1, "10": 1, "11": 1},
)
