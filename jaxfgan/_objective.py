"""Two-player objectives F(theta_g, theta_d) and the gradient flow they define.

The generator holds the angles ``theta_g`` (``n_g`` of them) and minimises F; the
discriminator holds ``theta_d`` (``n_d`` of them) and maximises it. A point of the
parameter space is the concatenation ``z = (theta_g, theta_d)`` of length
``n = n_g + n_d``, and the training flow is

    dtheta_g/dt = -grad_{theta_g} F,    dtheta_d/dt = +grad_{theta_d} F.
"""

import abc
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from ._errors import InputError
from ._typing import Angles, Array, ArrayLike

TWO_PI = 2.0 * math.pi


class Objective(eqx.Module):
    """Base class of every objective: a pure JAX function of the two players' angles.

    Subclasses implement ``__call__(theta_g, theta_d) -> scalar`` for 1-D arrays of
    lengths ``n_g`` and ``n_d``. Numeric parameters are array fields, so changing
    their values does not recompile anything jitted over the objective.
    """

    n_g: int = eqx.field(static=True)
    n_d: int = eqx.field(static=True)

    @abc.abstractmethod
    def __call__(self, theta_g: Array, theta_d: Array) -> Array:
        """F at the angles ``theta_g`` (shape (n_g,)) and ``theta_d`` ((n_d,))."""

    @property
    def n(self) -> int:
        """Number of angles of both players together."""
        return self.n_g + self.n_d

    @property
    def box(self) -> tuple[float, float] | None:
        """The search and plot box [lo, hi] per coordinate of an objective on R^n;
        None (the default) for an objective on the torus [-pi, pi)^n."""
        return None

    def flow(self, z: Array) -> Array:
        """The training flow's velocity (-grad_g F, +grad_d F) at ``z``.

        Subclasses that transform the flow (the regularisers) override this; every
        part of the engine reads the flow through :func:`vector_field`.
        """
        grad = jax.grad(lambda w: self(w[: self.n_g], w[self.n_g :]))(z)
        return player_signs(self, grad.dtype) * grad


class UserObjective(Objective):
    """Wraps a user's function ``F(theta_g, theta_d)`` as an objective on the torus
    (or, with ``box``, on R^n).

    Arguments:
        fn: a JAX-traceable function of two 1-D arrays returning a scalar.
        n_g, n_d: the number of angles of the generator and the discriminator.
        box: (lo, hi), the search and plot box of an objective on R^n; None (the
            default) for the torus.

    Example:
        >>> F = UserObjective(lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0]), 1, 1)
        >>> float(F(jnp.array([jnp.pi / 2]), jnp.array([jnp.pi / 2])))
        1.0
    """

    fn: Callable[[Array, Array], ArrayLike] = eqx.field(static=True)
    bounds: tuple[float, float] | None = eqx.field(static=True)

    def __init__(
        self,
        fn: Callable[[Array, Array], ArrayLike],
        n_g: int = 1,
        n_d: int = 1,
        box: tuple[float, float] | None = None,
    ):
        if n_g < 1 or n_d < 1:
            raise ValueError(f"UserObjective: need n_g, n_d >= 1, got {n_g}, {n_d}")
        self.fn = fn
        self.n_g = n_g
        self.n_d = n_d
        self.bounds = None if box is None else check_box("UserObjective", box)

    def __call__(self, theta_g: Array, theta_d: Array) -> Array:
        return jnp.asarray(self.fn(theta_g, theta_d))

    @property
    def box(self) -> tuple[float, float] | None:
        return self.bounds


def check_box(name: str, box) -> tuple[float, float]:
    """(lo, hi) as floats with lo < hi, both finite, or an InputError."""
    lo, hi = (float(x) for x in box)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise InputError(f"{name}: box must be finite with lo < hi, got {box}")
    return lo, hi


def value(objective: Objective, z: Angles) -> Array:
    """F at the point ``z = (theta_g, theta_d)``."""
    z = jnp.asarray(z)
    return objective(z[: objective.n_g], z[objective.n_g :])


def player_signs(objective: Objective, dtype=None) -> Array:
    """-1 for each generator angle (descent), +1 for each discriminator one (ascent)."""
    return jnp.concatenate(
        [-jnp.ones(objective.n_g, dtype), jnp.ones(objective.n_d, dtype)]
    )


def vector_field(objective: Objective, z: Angles) -> Array:
    """The training flow's velocity (-grad_g F, +grad_d F) at ``z``, by autodiff.

    Example:
        >>> F = UserObjective(lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0]))
        >>> vector_field(F, jnp.array([0.0, 0.0])).tolist()
        [-0.0, 0.0]
    """
    return objective.flow(jnp.asarray(z))


def flow_jacobian(objective: Objective, z: Angles) -> Array:
    """The vector field's Jacobian at ``z`` (forward-mode autodiff), shape (n, n)."""
    return jax.jacfwd(lambda w: vector_field(objective, w))(jnp.asarray(z))


def wrap_angles(z: ArrayLike) -> Array:
    """Angles wrapped into [-pi, pi)."""
    z = jnp.asarray(z)
    return jnp.mod(z + jnp.pi, TWO_PI) - jnp.pi


def distance(objective: Objective, a: ArrayLike, b: ArrayLike) -> Array:
    """The largest per-coordinate distance of ``a`` and ``b``: on the torus for a
    torus objective, in R^n for one with a box (last axis)."""
    if objective.box is None:
        return torus_distance(a, b)
    return jnp.max(jnp.abs(jnp.asarray(a) - jnp.asarray(b)), axis=-1)


def torus_distance(a: ArrayLike, b: ArrayLike) -> Array:
    """The largest per-angle distance of ``a`` and ``b`` on the torus (last axis)."""
    diff = wrap_angles(jnp.asarray(a) - jnp.asarray(b))
    return jnp.max(jnp.abs(diff), axis=-1)
