"""Settings for the whole suite (tests and the doctests in jaxfgan/): float64 and
strict rank promotion."""

import jax
import pytest

collect_ignore = ["jaxfgan/__main__.py"]  # importing it runs the command line

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    import jax.numpy as jnp
    import numpy as np

    doctest_namespace.update(jnp=jnp, np=np)
