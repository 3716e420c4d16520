"""Input-shape checks shared by the region layers."""


def check_region_shape(layer, input_shape, known_axes=(1, 2, 3)):
    """Raise a ValueError unless `input_shape` is `[batch, scopes, decomps, nodes]` with known sizes."""
    if len(input_shape) != 4 or any(input_shape[a] is None for a in known_axes):
        raise ValueError(
            f"{type(layer).__name__} expects region inputs [batch, scopes, decomps, nodes] with "
            f"known scopes, decomps and nodes. Received: input_shape={tuple(input_shape)}")
