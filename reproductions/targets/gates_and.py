"""gates.and: the L001 AND perceptron, w=(1,1), b=-2, h(z)=1 if z>=0. Exact, no training."""

from keras_lecture_zoo.reproductions.targets._gates import perceptron_gate

TARGET = perceptron_gate(
    "and",
    z={"00": -2, "01": -1, "10": -1, "11": 0},
    y={"00": 0, "01": 0, "10": 0, "11": 1},
)
