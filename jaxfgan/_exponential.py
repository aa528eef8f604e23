"""The exponential torus GAN: a two-angle GAN that learns an exponential law.

This is jaxfgan's own parametrisation (the paper's exact one is not published):

- generator: z ~ Exp(1), G(z) = z / lambda_g(theta_g), lambda_g(theta) =
  exp(gen_scale * sin theta), so the generated law is Exp(lambda_g);
- discriminator: D(x) = sigmoid(disc_scale * sin(theta_d) * (x - disc_center));
- objective: F = E_target[log D(x)] + E_{z ~ Exp(1)}[log(1 - D(G(z)))].

Expectations under an exponential law use Gauss-Laguerre quadrature, expectations
under data the sample mean. Data are divided by a unit u (the sample median unless
given) before use, so rates in the model are in units of 1/u.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
from numpy.polynomial.laguerre import laggauss

from ._errors import InputError
from ._objective import Objective, wrap_angles
from ._typing import Array, ArrayLike

MAX_GEN_SCALE = 700.0
"""exp(gen_scale) must stay below float64's largest number (about exp(709))."""

LAGUERRE_NODES = 64
"""Gauss-Laguerre nodes for expectations under Exp(rate): exact for polynomials of
degree < 128, and far below round-off for the smooth integrands here. numpy's
``laggauss`` loses accuracy above about 170 nodes."""

NEGLIGIBLE_WEIGHT = 1e-18
"""Gauss-Laguerre nodes with weight * (1 + node) below this are dropped."""


class ExponentialGAN(Objective):
    """The exponential torus GAN (see the module docstring for the definition).

    The target is held as weighted points ``(target_x, target_w)`` in scaled units:
    Gauss-Laguerre nodes for an analytic Exp(rate) target, or the scaled samples with
    weights 1/n for data. Build it with :func:`exponential_gan`.

    Facts (tested): the Nash equilibria lie where sin(theta_d) = 0 and
    1 / lambda_g(theta_g) = E_target[x]; there, with cos(theta_g) > 0 and theta_d = 0,
    the flow's Jacobian is [[0, -a], [a, -b]] with
    a = gen_scale * disc_scale * cos(theta_g) / (2 lambda_g) and
    b = disc_scale**2 * (E_target[(x - c)**2] + E_fake[(x - c)**2]) / 4.
    """

    target_x: Array
    target_w: Array
    fake_z: Array
    fake_w: Array
    gen_scale: Array
    disc_scale: Array
    disc_center: Array
    unit: Array

    def __call__(self, theta_g: Array, theta_d: Array) -> Array:
        s = self.disc_scale * jnp.sin(theta_d[0])
        rate = self.generator_rate(theta_g[0])
        c = self.disc_center
        real = _mean(self.target_w, jax.nn.log_sigmoid(s * (self.target_x - c)))
        fake_x = self.fake_z / rate
        fake = _mean(self.fake_w, jax.nn.log_sigmoid(-s * (fake_x - c)))
        return real + fake

    def flow(self, z: Array) -> Array:
        """The flow in closed form, from the derivative log(sigmoid)' = sigmoid(-u).

        With s = r_d sin theta_d, fake points x_j = z_j / lambda_g and c the centre,
        dF/ds = E_target[sigmoid(-s (x - c)) (x - c)] - E_fake[sigmoid(s (x - c))
        (x - c)], dF/dtheta_d = r_d cos(theta_d) dF/ds, and, since dx_j/dtheta_g =
        -kappa_g cos(theta_g) x_j, dF/dtheta_g = kappa_g cos(theta_g) s
        E_fake[sigmoid(s (x - c)) x]. One sigmoid per node and no logarithm: half
        the work of autodiff through log_sigmoid, which evaluates F on the way.

        Example: with the defaults (0, 0) is a Nash equilibrium, where it vanishes.
            >>> v = exponential_gan().flow(jnp.zeros(2))
            >>> bool(jnp.max(jnp.abs(v)) < 1e-13)
            True
        """
        theta_g, theta_d = z[0], z[1]
        s = self.disc_scale * jnp.sin(theta_d)
        c = self.disc_center
        fake_x = self.fake_z / self.generator_rate(theta_g)
        real_push = jax.nn.sigmoid(-s * (self.target_x - c))
        fake_push = jax.nn.sigmoid(s * (fake_x - c))
        real_mean = _mean(self.target_w, real_push * (self.target_x - c))
        d_s = real_mean - _mean(self.fake_w, fake_push * (fake_x - c))
        d_theta_d = self.disc_scale * jnp.cos(theta_d) * d_s
        fake_mean = _mean(self.fake_w, fake_push * fake_x)
        d_theta_g = self.gen_scale * jnp.cos(theta_g) * s * fake_mean
        return jnp.stack([-d_theta_g, d_theta_d])

    def generator_rate(self, theta_g: ArrayLike) -> Array:
        """lambda_g(theta_g) = exp(gen_scale * sin theta_g), in scaled units."""
        return jnp.exp(self.gen_scale * jnp.sin(theta_g))

    def learned_rate(self, theta_g: ArrayLike) -> Array:
        """The generator's rate in the data's own units, lambda_g / u."""
        return self.generator_rate(theta_g) / self.unit

    @property
    def target_mean(self) -> float:
        """E_target[x] in scaled units."""
        return float(np.dot(np.asarray(self.target_w), np.asarray(self.target_x)))

    def nash_points(self) -> Array:
        """The four Nash equilibria in closed form, shape (4, 2); empty if none.

        sin(theta_d) = 0 and exp(gen_scale sin theta_g) = 1 / E_target[x]: theta_g is
        arcsin(-log(E[x]) / gen_scale) or pi minus it, theta_d is 0 or -pi.
        """
        if self.nash_problem() is not None:
            return jnp.zeros((0, 2))
        theta_g = math.asin(-math.log(self.target_mean) / float(self.gen_scale))
        other = math.pi - theta_g
        return wrap_angles(
            jnp.array(
                [[theta_g, 0.0], [theta_g, -math.pi], [other, 0.0], [other, -math.pi]]
            )
        )

    def nash_problem(self) -> str | None:
        """None if Nash equilibria learning the target exist, else why not and the fix.

        At those equilibria 1 / lambda_g = E_target[x], so they exist when the
        target's rate 1 / E[x] lies in the generator's range
        [exp(-gen_scale), exp(gen_scale)] (scaled units).
        """
        log_rate = -math.log(self.target_mean)  # the mean is > 0 (exponential_gan)
        kappa = float(self.gen_scale)
        if abs(log_rate) <= kappa:
            return None
        return (
            f"no Nash equilibrium learns the target: its rate exp({log_rate:.4g}) "
            f"(scaled units) is outside the generator's range "
            f"[exp(-{kappa:.4g}), exp({kappa:.4g})]; choose a unit near the data's "
            f"typical value (--unit), or raise --gen-scale above {abs(log_rate):.3g}"
        )


def _mean(weights: Array, values: Array) -> Array:
    """sum_i w_i g(x_i), at full precision: under vmap this is a matrix product,
    which GPUs would otherwise round to TF32 in float32."""
    return jnp.dot(weights, values, precision="highest")


def exponential_gan(
    *,
    rate: float = 1.0,
    data: ArrayLike | None = None,
    unit: float | None = None,
    gen_scale: float = 2.0,
    disc_scale: float = 1.0,
    disc_center: float = 1.0,
) -> ExponentialGAN:
    """Build the exponential torus GAN for an analytic target or for data.

    Arguments:
        rate: the target Exp(rate), in the data's units (ignored when ``data`` given).
        data: 1-D samples of non-negative waiting times; the target is their law.
        unit: u, the data are divided by it; default the sample median for data and 1
            for an analytic target.
        gen_scale: kappa_g in lambda_g = exp(kappa_g sin theta_g); > 0.
        disc_scale: r_d in D(x) = sigmoid(r_d sin(theta_d) (x - c)); > 0.
        disc_center: c.

    Returns:
        An :class:`ExponentialGAN` objective.

    Example: with the defaults the Nash equilibrium (0, 0) has the value 2 log(1/2).
        >>> F = exponential_gan()
        >>> round(float(F(jnp.zeros(1), jnp.zeros(1))), 6)
        -1.386294
    """
    _check_positive("gen_scale", gen_scale)
    if float(gen_scale) > MAX_GEN_SCALE:
        raise InputError(
            f"exponential_gan: gen_scale must be <= {MAX_GEN_SCALE} (exp(gen_scale) "
            f"overflows beyond), got {gen_scale}"
        )
    _check_positive("disc_scale", disc_scale)
    _check_finite("disc_center", disc_center)
    if unit is not None:
        _check_positive("unit", unit)
    if data is None:
        _check_positive("rate", rate)
        unit = 1.0 if unit is None else float(unit)
        target_x, target_w = _exponential_nodes(rate * unit)
    else:
        target_x, target_w, unit = _data_points(data, unit)
    _check_target_mean(target_x, target_w)
    fake_z, fake_w = _exponential_nodes(1.0)
    return ExponentialGAN(
        n_g=1,
        n_d=1,
        target_x=jnp.asarray(target_x),
        target_w=jnp.asarray(target_w),
        fake_z=jnp.asarray(fake_z),
        fake_w=jnp.asarray(fake_w),
        gen_scale=jnp.asarray(float(gen_scale)),
        disc_scale=jnp.asarray(float(disc_scale)),
        disc_center=jnp.asarray(float(disc_center)),
        unit=jnp.asarray(float(unit)),
    )


def _exponential_nodes(rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights with sum_i w_i g(x_i) = E[g(X)], X ~ Exp(rate).

    Nodes whose weight times (1 + node) is below NEGLIGIBLE_WEIGHT are dropped (31
    of 64), which halves the cost of every evaluation. The integrands here are
    bounded by C (1 + x) (log-sigmoids of linear functions), so the dropped nodes
    change an expectation by less than 1e-16 C in absolute terms; an expectation
    that is itself far below C can change by more, relative to its own size.
    """
    nodes, weights = laggauss(LAGUERRE_NODES)
    keep = weights * (1.0 + nodes) >= NEGLIGIBLE_WEIGHT
    return nodes[keep] / rate, weights[keep]


def _data_points(data: ArrayLike, unit: float | None) -> tuple:
    try:
        samples = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("exponential_gan: data must be an array of numbers") from None
    if samples.ndim != 1 or samples.size == 0:
        raise InputError(
            f"exponential_gan: data must be a non-empty 1-D array, got shape "
            f"{samples.shape}"
        )
    if not np.all(np.isfinite(samples)) or np.any(samples < 0):
        raise InputError("exponential_gan: data must be finite and >= 0")
    if unit is None:
        unit = float(np.median(samples))
        if unit <= 0:
            raise InputError(
                "exponential_gan: the data's median is 0, so it cannot be the unit; "
                "pass a positive unit (--unit)"
            )
    weights = np.full(samples.size, 1.0 / samples.size)
    return samples / unit, weights, float(unit)


def _check_target_mean(target_x: np.ndarray, target_w: np.ndarray) -> None:
    mean = float(np.dot(target_w, target_x))
    if not 1e-300 < mean < 1e300:  # beyond, XLA's arithmetic flushes or overflows
        raise InputError(
            f"exponential_gan: the target's mean in scaled units is {mean:.4g}, so it "
            f"has no usable rate; the data must not all be 0, and the rate and unit "
            f"must give a mean between 1e-300 and 1e300"
        )


def _check_finite(name: str, number: float) -> None:
    try:
        finite = math.isfinite(float(number))
    except (TypeError, ValueError):
        raise InputError(
            f"exponential_gan: {name} must be a real number, got {number!r}"
        ) from None
    if not finite:
        raise InputError(f"exponential_gan: {name} must be finite, got {number}")


def _check_positive(name: str, number: float) -> None:
    _check_finite(name, number)
    if float(number) <= 0:
        raise InputError(f"exponential_gan: {name} must be > 0, got {number}")
