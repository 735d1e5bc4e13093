"""Measuring the methods that go beyond the generator's range (issue 14): validation photos, the shared
CSGM phase, hyper-parameters chosen on validation, the sweep against plain CSGM and Lasso."""
