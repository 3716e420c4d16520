"""spnlab: an interactive workbench and TensorFlow 2 / Keras 3 library for Sum-Product Networks.

Layers of the package: `spnlab.core` (TensorFlow numerics) <- `spnlab.lab` (UI-free session)
<- `spnlab.widgets` (Jupyter views).

Importing spnlab sets TensorFlow's process settings up before TensorFlow loads (a quiet log:
no C++ INFO lines; the BFC CPU allocator); see `spnlab._tensorflow_setup`.
"""
from spnlab import _tensorflow_setup

_tensorflow_setup.install()

__version__ = "0.1.0"
