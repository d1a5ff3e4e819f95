// Gradient-boosted decision trees in the LightGBM style: trainer, model.txt reader and writer, k-fold CV, hyperparameter search.
// Its public surface arrives with the issue that builds it.
export {};
