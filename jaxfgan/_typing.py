"""Type aliases shared by the modules of jaxfgan."""

from jaxtyping import Array, ArrayLike, Float

Angles = Float[ArrayLike, " n"]
"""A point of the parameter space: the generator's angles, then the discriminator's."""

BatchAngles = Float[Array, "batch n"]

__all__ = ["Angles", "Array", "ArrayLike", "BatchAngles", "Float"]
