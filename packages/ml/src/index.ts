// TensorFlow.js: backends, model zoo with the L2-constrained softmax head, augmentation, training with checkpoints, TTA predictor.
// Its public surface arrives with the issue that builds it.
export {};
