"""Training: one model fit with validation-based early stopping, and the evaluation protocols."""
