# Hyper-parameters, kept apart from the model (as a student's project does)
HIDDEN = 8
LEARNING_RATE = 0.01
