"""spnlab: an interactive workbench and TensorFlow 2 / Keras 3 library for Sum-Product Networks.

Layers of the package: `spnlab.core` (TensorFlow numerics) <- `spnlab.lab` (UI-free session)
<- `spnlab.widgets` (Jupyter views).
"""
__version__ = "0.1.0"
