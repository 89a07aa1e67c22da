"""xor.keras_model2: L001 XOR Model 2, Dense(2, relu, N(0.75, 0.01)) → Dense(1, sigmoid);
MSE, Adam, batch 4, 1000 epochs."""

from keras_lecture_zoo.reproductions.targets._xor import xor_target

TARGET = xor_target(
    "xor.keras_model2",
    "xor_model2",
    "L001 XOR Model 2: Dense(2, relu, N(0.75, 0.01)) → Dense(1, sigmoid)",
    accuracy=1.0,
    probs={"00": 0.478, "01": 0.581, "10": 0.581, "11": 0.398},
)
