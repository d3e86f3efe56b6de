"""Wrappers of minikeras models for other libraries (scikit-learn). """
