"""Pure TensorFlow functions: the maths that layers and sum ops wire together."""
