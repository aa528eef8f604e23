"""The first-order modified flows of simultaneous and alternating steps (backward
error analysis, Rosca, Wu, Qin and Dherin, ICML 2021).

Steps of size h follow the flow w = (v_g, r v_d), r = h_d / h, only to first order;
to second order they follow a modified flow w + h w1, found by matching the
Taylor expansion of one step with that of the flow over a time h:

- simultaneous, z+ = z + h w(z): w1 = -(1/2) (dw/dz) w;
- alternating (one generator step, then one discriminator step at the new
  theta_g): the discriminator's step adds h (d w_d / d theta_g) w_g, so
  w1 = -(1/2) (dw/dz) w + (0, (d w_d / d theta_g) w_g).

On the Dirac GAN (flow eigenvalues +- i a) the simultaneous modified flow has
eigenvalues h a^2 / 2 +- i a (a repeller: the iterates drift outward), the
alternating one has trace 0 (a centre: they do not drift).
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from ._errors import InputError
from ._objective import Objective
from ._typing import Array

MODIFIED_METHODS = ("simgd", "altgd")
"""The discrete methods with a modified flow here."""


class ModifiedFlow(Objective):
    """The first-order modified flow of ``simgd`` or ``altgd`` steps of size h.

    F, the players and the box are those of ``base``; :meth:`flow` is w + h w1
    (see the module docstring), so equilibria, spectra and portraits use it.
    """

    base: Objective
    method: str = eqx.field(static=True)
    lr: Array
    ratio: Array

    def __call__(self, theta_g: Array, theta_d: Array) -> Array:
        return self.base(theta_g, theta_d)

    @property
    def box(self) -> tuple[float, float] | None:
        return self.base.box

    def _scaled(self, z: Array) -> Array:
        return self.base.flow(z).at[self.n_g :].multiply(self.ratio)

    def flow(self, z: Array) -> Array:
        w, jw = jax.jvp(self._scaled, (z,), (self._scaled(z),))
        drift = -0.5 * jw
        if self.method == "altgd":
            along_g = w.at[self.n_g :].set(0.0)
            _, cross = jax.jvp(self._scaled, (z,), (along_g,))
            drift = drift.at[self.n_g :].add(cross[self.n_g :])
        return w + self.lr * drift


def modified_flow(
    objective: Objective, method: str, lr: float, lr_d: float | None = None
) -> ModifiedFlow:
    """The first-order modified flow of simultaneous or alternating steps.

    Arguments:
        objective: the game.
        method: "simgd" or "altgd" (one step of each player per round).
        lr, lr_d: the generator's and the discriminator's learning rates (lr_d
            defaults to lr); time is counted in generator steps of size lr.

    Returns:
        A :class:`ModifiedFlow` objective.

    Example: simultaneous steps on F = theta_g theta_d (flow eigenvalues +- i)
    follow a flow with eigenvalues h/2 +- i, so they spiral outward.
        >>> from jaxfgan import UserObjective, classify
        >>> F = UserObjective(lambda g, d: g[0] * d[0], box=(-1, 1))
        >>> classify(modified_flow(F, "simgd", 0.2), [0.0, 0.0]).eigenvalues
        array([0.1-1.j, 0.1+1.j])

    References:
        M. Rosca, Y. Wu, C. Qin, B. Dherin. Discretization Drift in Two-Player
        Games. ICML 2021.
    """
    if method not in MODIFIED_METHODS:
        raise InputError(
            f"modified_flow: method must be simgd or altgd, got {method!r}"
        )
    lr_d = lr if lr_d is None else lr_d
    if not (lr > 0 and lr_d > 0):
        raise InputError(f"modified_flow: need lr, lr_d > 0, got {lr}, {lr_d}")
    return ModifiedFlow(
        n_g=objective.n_g,
        n_d=objective.n_d,
        base=objective,
        method=method,
        lr=jnp.asarray(float(lr)),
        ratio=jnp.asarray(float(lr_d) / float(lr)),
    )
