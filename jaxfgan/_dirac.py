"""The Dirac GAN of Mescheder, Geiger and Nowozin (2018): the smallest GAN that
circles its equilibrium.

The data are the point mass delta_0, the generator puts all its mass at theta
(theta_g = theta), and the discriminator is linear, D(x) = psi x (theta_d = psi,
the logit). The objective is

    F(theta, psi) = f(psi theta) + f(0),

with f(t) = -log(1 + exp(-t)) for the standard GAN loss or f(t) = t for the
Wasserstein form. The parameters live on R^2, not on a torus, so the model has a
search and plot ``box``.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from ._errors import InputError
from ._objective import Objective, check_box
from ._typing import Array

DIRAC_LOSSES = ("standard", "wgan")
"""The choices of f: -log(1 + e^-t) (standard) or t (wgan)."""


class DiracGAN(Objective):
    """The Dirac GAN, F(theta, psi) = f(psi theta) + f(0) (see the module docstring).

    Build it with :func:`dirac_gan`. Its discriminator is linear in x, so the
    gradient penalties R1 (on the data) and R2 (on the generated point) are both
    gamma/2 psi^2.
    """

    loss: str = eqx.field(static=True)
    bounds: tuple[float, float] = eqx.field(static=True)

    def __call__(self, theta_g: Array, theta_d: Array) -> Array:
        f = self.f
        return f(theta_d[0] * theta_g[0]) + f(jnp.zeros_like(theta_g[0]))

    def f(self, t: Array) -> Array:
        """f(t): -log(1 + e^-t) (standard) or t (wgan)."""
        return jax.nn.log_sigmoid(t) if self.loss == "standard" else t

    @property
    def box(self) -> tuple[float, float]:
        return self.bounds

    def logit(self, theta_d: Array, x: Array) -> Array:
        """The discriminator's output before f: psi x."""
        return theta_d[0] * x

    def real_points(self) -> tuple[Array, Array]:
        """The data law delta_0 as (points, weights)."""
        return jnp.zeros(1), jnp.ones(1)

    def fake_points(self, theta_g: Array) -> tuple[Array, Array]:
        """The generated law delta_theta as (points, weights)."""
        return theta_g[:1], jnp.ones(1)


def dirac_gan(loss: str = "standard", box: tuple[float, float] = (-2.0, 2.0)):
    """Build the Dirac GAN of Mescheder et al. (2018).

    Arguments:
        loss: "standard" for f(t) = -log(1 + e^-t), "wgan" for f(t) = t.
        box: (lo, hi), the square searched for equilibria and drawn.

    Returns:
        A :class:`DiracGAN` with one parameter per player.

    Example: F(0, 0) = 2 f(0) = 2 log(1/2) for the standard loss.
        >>> F = dirac_gan()
        >>> round(float(F(jnp.zeros(1), jnp.zeros(1))), 6)
        -1.386294

    References:
        L. Mescheder, A. Geiger, S. Nowozin. Which Training Methods for GANs do
        actually Converge? ICML 2018.
    """
    if loss not in DIRAC_LOSSES:
        raise InputError(
            f"dirac_gan: loss must be one of {', '.join(DIRAC_LOSSES)}, got {loss!r}"
        )
    return DiracGAN(n_g=1, n_d=1, loss=loss, bounds=check_box("dirac_gan", box))
