"""xor.keras_model3: L001 XOR Model 3, Dense(3, relu, N(0.75, 0.01)) → Dense(1, sigmoid);
MSE, Adam, batch 4, 1000 epochs."""

from keras_lecture_zoo.reproductions.targets._xor import xor_target

TARGET = xor_target(
    "xor.keras_model3",
    "xor_model3",
    "L001 XOR Model 3: Dense(3, relu, N(0.75, 0.01)) → Dense(1, sigmoid)",
    accuracy=1.0,
    probs={"00": 0.320, "01": 0.699, "10": 0.699, "11": 0.297},
)
