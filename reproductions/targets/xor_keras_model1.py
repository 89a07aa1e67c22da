"""xor.keras_model1: L001 XOR Model 1, Dense(2, sigmoid, N(0.75, 0.01)) → Dense(1, sigmoid);
MSE, Adam, batch 4, 1000 epochs."""

from keras_lecture_zoo.reproductions.targets._xor import xor_target

TARGET = xor_target(
    "xor.keras_model1",
    "xor_model1",
    "L001 XOR Model 1: Dense(2, sigmoid, N(0.75, 0.01)) → Dense(1, sigmoid)",
    accuracy=0.75,
    probs={"00": 0.517, "01": 0.506, "10": 0.506, "11": 0.492},
    controls=True,
    extra_notes=(
        "Model 1 also runs two controls per seed (see the controls table): a Glorot-uniform start for the same "
        "1000 epochs, and the lecture's start for 5000 epochs, to separate the symmetric start from the budget."
    ),
)
