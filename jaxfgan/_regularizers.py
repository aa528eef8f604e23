"""Continuous-time training methods as transforms of the flow v = (-grad_g F,
+grad_d F), for any objective.

- ``ttur`` (ratio r): the two time-scale rule, v -> (v_g, r v_d) (Heusel et al.,
  2017);
- ``consensus`` (gamma): v -> v - gamma grad(|v|^2 / 2) (Mescheder, Nowozin and
  Geiger, 2017), the gradient taken by autodiff;
- ``sga`` (lambda): symplectic gradient adjustment, v -> v - lambda A^T v with A the
  antisymmetric part of dv/dz (Balduzzi et al., 2018; written for the game gradient
  xi = -v, it is xi + lambda A_xi^T xi);
- ``r1`` and ``r2`` (gamma): the gradient penalties of Mescheder, Geiger and Nowozin
  (2018), gamma/2 E[|grad_x D(x)|^2] under the data (R1) or the generated law
  (R2), subtracted from the discriminator's objective; D is the discriminator's
  logit (its output before the loss), as in that paper. Only for models with a
  discriminator over data: the exponential GAN and the Dirac GAN. Both models'
  logits are linear in x, so for them R1 and R2 coincide: gamma/2 times the
  squared slope (r_d sin theta_d, or psi).
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp

from ._dirac import DiracGAN
from ._errors import InputError
from ._exponential import ExponentialGAN
from ._objective import Objective
from ._typing import Array

REGULARIZERS = ("consensus", "sga", "r1", "r2", "ttur")
"""The names of the flow transforms."""


class Regularized(Objective):
    """An objective whose flow is transformed by one of :data:`REGULARIZERS`.

    F itself (``__call__``), the players' sizes and the box are those of ``base``;
    only :meth:`flow` changes, so equilibria, spectra, portraits and training all
    see the regularised flow. The Nash flag still describes the game F.

    Attributes:
        base: the objective whose flow is transformed (the exact F or a series).
        name: one of :data:`REGULARIZERS`.
        strength: gamma, lambda or the ratio.
        model: the model whose discriminator the penalties r1 and r2 read (the
            exponential or the Dirac GAN); None for the other transforms.
    """

    base: Objective
    name: str = eqx.field(static=True)
    strength: Array
    model: Objective | None

    def __init__(self, base, name, strength, model=None):
        self.base, self.name, self.model = base, name, model
        self.strength = jnp.asarray(float(strength))
        self.n_g, self.n_d = base.n_g, base.n_d

    def __call__(self, theta_g: Array, theta_d: Array) -> Array:
        return self.base(theta_g, theta_d)

    @property
    def box(self) -> tuple[float, float] | None:
        return self.base.box

    def flow(self, z: Array) -> Array:
        return _TRANSFORMS[self.name](self, z)

    def with_base(self, base: Objective) -> "Regularized":
        """The same transform of another objective's flow (e.g. a Fourier series)."""
        return Regularized(base, self.name, self.strength, self.model)

    def describe(self) -> str:
        symbol = {"sga": "lambda", "ttur": "ratio"}.get(self.name, "gamma")
        return f"{self.name} ({symbol} = {float(self.strength):g})"


def regularize(objective: Objective, name: str, strength: float) -> Regularized:
    """Transform the flow of ``objective`` by the regulariser ``name``.

    Arguments:
        objective: any objective; for "r1" and "r2" the exponential or Dirac GAN.
        name: one of :data:`REGULARIZERS`.
        strength: gamma (consensus, r1, r2; >= 0), lambda (sga; any sign) or the
            discriminator's time-scale ratio (ttur; > 0).

    Returns:
        A :class:`Regularized` objective.

    Example: consensus on F = theta_g theta_d turns the centre at 0 into a spiral
    attractor with eigenvalues -gamma +- i.
        >>> from jaxfgan import UserObjective, classify
        >>> F = UserObjective(lambda g, d: g[0] * d[0], box=(-1, 1))
        >>> classify(regularize(F, "consensus", 0.5), [0.0, 0.0]).eigenvalues
        array([-0.5-1.j, -0.5+1.j])

    References:
        M. Heusel et al. GANs Trained by a Two Time-Scale Update Rule, 2017.
        L. Mescheder, S. Nowozin, A. Geiger. The Numerics of GANs, 2017.
        D. Balduzzi et al. The Mechanics of n-Player Differentiable Games, 2018.
        L. Mescheder, A. Geiger, S. Nowozin. Which Training Methods for GANs do
        actually Converge? 2018.
    """
    if name not in REGULARIZERS:
        raise InputError(
            f"regularize: unknown regularizer {name!r}; choose one of "
            f"{', '.join(REGULARIZERS)}"
        )
    _check_strength(name, strength)
    model = None
    if name in ("r1", "r2"):
        model = base_model(objective)
        if not isinstance(model, DiracGAN | ExponentialGAN):
            raise InputError(
                f"regularize: {name} penalises a discriminator over data, which only "
                f"the exponential and Dirac GANs have"
            )
    return Regularized(objective, name, strength, model)


def _check_strength(name: str, strength: float) -> None:
    strength = float(strength)
    if not math.isfinite(strength):
        raise InputError(f"regularize: {name} needs a finite value, got {strength}")
    if name == "ttur" and strength <= 0:
        raise InputError(f"regularize: ttur needs a ratio > 0, got {strength}")
    if name in ("consensus", "r1", "r2") and strength < 0:
        raise InputError(f"regularize: {name} needs gamma >= 0, got {strength}")


def base_model(objective: Objective) -> Objective:
    """The objective under every regulariser."""
    while isinstance(objective, Regularized):
        objective = objective.base
    return objective


def _ttur(reg: Regularized, z: Array) -> Array:
    v = reg.base.flow(z)
    return v.at[reg.n_g :].multiply(reg.strength)


def _consensus(reg: Regularized, z: Array) -> Array:
    v = reg.base.flow(z)
    half_norm = jax.grad(lambda w: 0.5 * jnp.sum(reg.base.flow(w) ** 2))(z)
    return v - reg.strength * half_norm


def _sga(reg: Regularized, z: Array) -> Array:
    # A^T v = (J^T v - J v) / 2 for A = (J - J^T) / 2: one jvp and one vjp, no J.
    v, jv = jax.jvp(reg.base.flow, (z,), (reg.base.flow(z),))
    _, pullback = jax.vjp(reg.base.flow, z)
    (jtv,) = pullback(v)
    return v - reg.strength * 0.5 * (jtv - jv)


def _penalty(reg: Regularized, z: Array) -> Array:
    v = reg.base.flow(z)
    theta_g = z[: reg.n_g]
    grad_d = jax.grad(lambda d: _squared_slope(reg.model, reg.name, theta_g, d))
    return v.at[reg.n_g :].add(-reg.strength * grad_d(z[reg.n_g :]))


def _squared_slope(model, name: str, theta_g: Array, theta_d: Array) -> Array:
    """E[|d logit / dx|^2] / 2 under the data (r1) or the generated law (r2)."""
    points, weights = _points(model, name, theta_g)
    slope = jax.vmap(jax.grad(lambda x: _logit(model, theta_d, x)))(points)
    return 0.5 * jnp.dot(weights, slope**2)


def _points(model, name: str, theta_g: Array) -> tuple[Array, Array]:
    if isinstance(model, DiracGAN):
        if name == "r1":
            return model.real_points()
        return model.fake_points(theta_g)
    if name == "r1":
        return model.target_x, model.target_w
    return model.fake_z / model.generator_rate(theta_g[0]), model.fake_w


def _logit(model, theta_d: Array, x: Array) -> Array:
    if isinstance(model, DiracGAN):
        return model.logit(theta_d, x)
    slope = model.disc_scale * jnp.sin(theta_d[0])
    return slope * (x - model.disc_center)


_TRANSFORMS = {
    "ttur": _ttur,
    "consensus": _consensus,
    "sga": _sga,
    "r1": _penalty,
    "r2": _penalty,
}
