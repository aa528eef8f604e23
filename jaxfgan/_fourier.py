"""Fourier series of an objective on the torus, and its truncation at an order N.

F(theta) = sum_k c_k exp(i k . theta), k in Z^n. The coefficients come from the FFT
of F sampled on a grid of M points per angle, theta_j = 2 pi j / M:
c_k = M^-n sum_j F(theta_j) exp(-i k . theta_j). Truncation at order N keeps the
modes with max_j |k_j| <= N, which needs 2N + 1 <= M.

The truncated series is evaluated in real form. Per angle it uses the 2N + 1
harmonics h(theta) = [1, cos theta, ..., cos N theta, sin theta, ..., sin N theta],
and F_N(theta) = sum_m A[m_1..m_n] h_{m_1}(theta_1) ... h_{m_n}(theta_n): one
contraction per angle, which under vmap becomes a matrix product.
"""

import functools
import math
from dataclasses import dataclass

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ._errors import InputError
from ._objective import TWO_PI, Objective, player_signs, value
from ._typing import Array

MAX_GRID_POINTS = 2**24
"""The largest M**n sampled: 2**24 samples and their complex FFT take 400 MiB."""

_SAMPLE_BATCH = 65536


class FourierSeries(Objective):
    """The order-N truncation of an objective's Fourier series, as an objective.

    ``coeffs`` is the real coefficient tensor A of shape (2N+1,)*n in the harmonic
    basis of the module docstring; ``order`` is N. Build it with
    :func:`fourier_series` or :meth:`FourierCoefficients.truncate`.
    """

    coeffs: Array
    order: int = eqx.field(static=True)

    def __call__(self, theta_g: Array, theta_d: Array) -> Array:
        harmonics, _ = angle_harmonics(jnp.concatenate([theta_g, theta_d]), self.order)
        return _contract(self.coeffs, harmonics)

    def flow(self, z: Array) -> Array:
        """The flow in closed form: dF/dtheta_j = (dF/dh_j) . h_j'(theta_j).

        F is linear in each angle's harmonics h_j and h_j' is known, so no
        derivative of a sine or cosine is taken: autodiff through them costs more
        than the contraction itself.

        Example: the series of sin(theta_g) sin(theta_d) is itself, and its flow at
        (0.3, 0.5) is (-cos 0.3 sin 0.5, sin 0.3 cos 0.5).
            >>> from jaxfgan import UserObjective, fourier_series
            >>> F = UserObjective(lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0]))
            >>> v = fourier_series(F, order=1, grid=4).flow(jnp.array([0.3, 0.5]))
            >>> g, d = 0.3, 0.5
            >>> expected = [-math.cos(g) * math.sin(d), math.sin(g) * math.cos(d)]
            >>> bool(jnp.allclose(v, jnp.array(expected), atol=1e-15))
            True
        """
        harmonics, derivatives = angle_harmonics(z, self.order)
        if self.n == 2:
            grad = _two_angle_gradient(self.coeffs, harmonics, derivatives)
        else:
            grad = _gradient_by_pullback(self.coeffs, harmonics, derivatives)
        return player_signs(self, grad.dtype) * grad

    def complex_coefficients(self) -> Array:
        """The coefficients c_k, shape (2N+1,)*n, index k + N along each axis."""
        inverse = jnp.asarray(_real_to_complex(self.order))
        result = self.coeffs.astype(inverse.dtype)
        for _ in range(self.n):
            result = jnp.tensordot(result, inverse, axes=(0, 0))
        return result


# jitted so that eager calls (F at one point, in a Python loop) reuse one compiled
# scan instead of tracing and compiling a fresh one each time
@functools.partial(jax.jit, static_argnames="order")
def angle_harmonics(z: Array, order: int) -> tuple[Array, Array]:
    """The harmonics h(z_j) = [1, cos k z_j (k = 1..N), sin k z_j (k = 1..N)] of
    each angle (column j) and their derivatives h'(z_j): two (2N+1, n) arrays.

    cos k z and sin k z come from cos z and sin z by the angle-addition recurrence
    (a rotation by z per step, error about k * eps): two trigonometric calls per
    angle instead of 2N, which would dominate the cost of the series. The loop
    over k is a ``lax.scan``; unrolled, XLA fuses the chain into every consumer and
    recomputes it (measured several times slower on CPU).
    """
    z = z.astype(jnp.result_type(z.dtype, float))  # integer angles too
    cos1, sin1 = jnp.cos(z), jnp.sin(z)

    def rotate(previous, _):
        cos_k, sin_k = previous
        following = (cos_k * cos1 - sin_k * sin1, sin_k * cos1 + cos_k * sin1)
        return following, following

    start = (jnp.ones_like(z), jnp.zeros_like(z))
    _, (cos_k, sin_k) = jax.lax.scan(rotate, start, length=order)  # (N, n) each
    k = jnp.arange(1, order + 1, dtype=z.dtype)[:, None]
    ones, zeros = jnp.ones_like(z)[None], jnp.zeros_like(z)[None]
    harmonics = jnp.concatenate([ones, cos_k, sin_k])
    derivatives = jnp.concatenate([zeros, -k * sin_k, k * cos_k])
    return harmonics, derivatives


def _contract(coeffs: Array, harmonics: Array) -> Array:
    """sum_m A[m_1..m_n] h_1[m_1] ... h_n[m_n]: one contraction per angle."""
    result = coeffs
    for j in range(harmonics.shape[1]):  # n <= 4: a static loop over angles
        result = jnp.tensordot(harmonics[:, j], result, axes=1, precision="highest")
    return result


def _two_angle_gradient(coeffs: Array, harmonics: Array, derivatives: Array) -> Array:
    """(h_1' . A h_2, h_1 A . h_2'): two matrix-vector products, which under vmap
    become two matrix products; a third faster than the pullback below (CPU)."""
    u = jnp.dot(coeffs, harmonics[:, 1], precision="highest")
    w = jnp.dot(harmonics[:, 0], coeffs, precision="highest")
    grad_g = jnp.dot(derivatives[:, 0], u, precision="highest")
    return jnp.stack([grad_g, jnp.dot(w, derivatives[:, 1], precision="highest")])


def _gradient_by_pullback(coeffs: Array, harmonics: Array, derivatives: Array):
    """Every dF/dh_j from one reverse pass through the contraction (about twice
    the cost of F, where taking each angle in turn would cost n times F)."""
    _, pullback = jax.vjp(lambda h: _contract(coeffs, h), harmonics)
    (grad_h,) = pullback(jnp.ones((), harmonics.dtype))
    return jnp.sum(grad_h * derivatives, axis=0)


@dataclass(frozen=True)
class FourierCoefficients:
    """An objective's samples on the grid and all M**n Fourier coefficients.

    Attributes:
        samples: F(theta_j), shape (M,)*n, theta_j = 2 pi j / M.
        coeffs: c_k in FFT order (k mod M along each axis), complex, shape (M,)*n.
        n_g, n_d: the players' numbers of angles.
        objective: the objective sampled (for the midpoint samples of
            :meth:`sup_error`).
    """

    samples: Array
    coeffs: Array
    n_g: int
    n_d: int
    objective: Objective | None = None

    @functools.cached_property
    def midpoint_samples(self) -> Array:
        """F at the cell midpoints theta_j + pi / M, shape (M,)*n (computed once)."""
        return sample_on_grid(self.objective, self.grid, offset=0.5)

    @property
    def grid(self) -> int:
        return self.samples.shape[0]

    def truncate(self, order: int) -> FourierSeries:
        """The order-N series as an objective (see :class:`FourierSeries`)."""
        self._check_order(order)
        centred = self.modes_tensor(order)
        forward = jnp.asarray(_complex_to_real(order))
        for _ in range(self.n_g + self.n_d):
            centred = jnp.tensordot(centred, forward, axes=(0, 0))
        return FourierSeries(
            n_g=self.n_g, n_d=self.n_d, coeffs=jnp.real(centred), order=order
        )

    def modes_tensor(self, order: int) -> Array:
        """c_k for max_j |k_j| <= N, shape (2N+1,)*n, index k + N along each axis."""
        self._check_order(order)
        index = np.arange(-order, order + 1) % self.grid
        return self.coeffs[np.ix_(*[index] * self.coeffs.ndim)]

    def sup_error(self, order: int) -> float:
        """max |F - F_N| over the grid's nodes and its cells' midpoints.

        On the nodes alone the error would be blind to aliasing (with 2N + 1 = M
        the series interpolates F there exactly); the midpoints theta_j + pi / M
        are not used by the FFT, so they see it.
        """
        self._check_order(order)
        kept = self.coeffs * self._mask(order)
        on_nodes = jnp.real(jnp.fft.ifftn(kept)) * self.samples.size
        error = float(jnp.max(jnp.abs(on_nodes - self.samples)))
        if self.objective is None:
            return error
        shifted = jnp.real(jnp.fft.ifftn(kept * self._half_cell_phase()))
        midpoint_error = jnp.abs(shifted * self.samples.size - self.midpoint_samples)
        return max(error, float(jnp.max(midpoint_error)))

    def _half_cell_phase(self) -> Array:
        """exp(i k . (pi / M, ..., pi / M)) in FFT order: a shift by half a cell."""
        k = np.fft.fftfreq(self.grid, 1.0 / self.grid)
        grids = np.meshgrid(*[k] * self.coeffs.ndim, indexing="ij")
        return jnp.asarray(np.exp(1j * np.pi / self.grid * np.sum(grids, axis=0)))

    def energy_captured(self, order: int) -> float:
        """The share of sum_k |c_k|^2 (Parseval) kept by the order-N truncation."""
        self._check_order(order)
        power = jnp.abs(self.coeffs) ** 2
        return float(jnp.sum(power * self._mask(order)) / jnp.sum(power))

    def _mask(self, order: int) -> Array:
        k = np.abs(np.fft.fftfreq(self.grid, 1.0 / self.grid))
        grids = np.meshgrid(*[k] * self.coeffs.ndim, indexing="ij")
        return jnp.asarray(np.max(np.stack(grids), axis=0) <= order)

    def _check_order(self, order: int) -> None:
        if not isinstance(order, int | np.integer) or order < 0:
            raise InputError(f"fourier: order must be an integer >= 0, got {order!r}")
        if 2 * order + 1 > self.grid:
            raise InputError(
                f"fourier: order {order} needs a grid of at least {2 * order + 1} "
                f"points per angle (2N+1), got {self.grid}; raise the grid or lower "
                f"the order (at most {(self.grid - 1) // 2})"
            )


def default_grid(n: int) -> int:
    """The default Fourier grid per angle: 128, or 64 for four angles and more."""
    return 128 if n <= 3 else 64


def fourier_coefficients(objective: Objective, grid: int = 128) -> FourierCoefficients:
    """Sample ``objective`` on a grid of ``grid`` points per angle and take its FFT.

    Arguments:
        objective: any objective on the torus, with n = n_g + n_d angles.
        grid: M, points per angle; M**n must stay at most 2**24 (M = 64 for four
            angles).

    Returns:
        A :class:`FourierCoefficients` with the samples and every coefficient c_k.

    Example: cos(theta_g) sin(theta_d) has c_(+-1, +-1) = +-1/(4i), i.e. |c| = 1/4.
        >>> from jaxfgan import UserObjective
        >>> F = UserObjective(lambda g, d: jnp.cos(g[0]) * jnp.sin(d[0]))
        >>> c = fourier_coefficients(F, grid=8).modes_tensor(1)
        >>> round(float(abs(c[2, 2])), 12)
        0.25
    """
    n = objective.n
    if not isinstance(grid, int | np.integer) or grid < 1:
        raise InputError(f"fourier: grid must be an integer >= 1, got {grid!r}")
    if grid**n > MAX_GRID_POINTS:
        raise InputError(
            f"fourier: a grid of {grid} points per angle over {n} angles is "
            f"{grid**n} samples, above the limit {MAX_GRID_POINTS}; use a smaller grid"
        )
    samples = sample_on_grid(objective, grid)
    bad = ~np.isfinite(np.asarray(samples))
    if bad.any():
        first = np.argwhere(bad)[0] * (TWO_PI / grid)
        raise InputError(
            f"fourier: F is not finite at {int(bad.sum())} of the {samples.size} grid "
            f"points, e.g. theta = ({', '.join(f'{x:.4g}' for x in first)}); a "
            f"Fourier series needs F finite on the whole torus"
        )
    coeffs = jnp.fft.fftn(samples) / samples.size
    return FourierCoefficients(samples, coeffs, objective.n_g, objective.n_d, objective)


def fourier_series(objective: Objective, order: int, grid: int = 128) -> FourierSeries:
    """The order-N truncated Fourier series of ``objective`` (grid of M per angle).

    Example: a function that is its own order-1 series comes back unchanged.
        >>> from jaxfgan import UserObjective
        >>> F = UserObjective(lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0]))
        >>> F1 = fourier_series(F, order=1, grid=16)
        >>> round(float(F1(jnp.array([0.3]), jnp.array([1.1]))), 12)  # sin .3 sin 1.1
        0.263369783223
    """
    return fourier_coefficients(objective, grid).truncate(order)


def sample_on_grid(objective: Objective, grid: int, offset: float = 0.0) -> Array:
    """F at theta_j = 2 pi (j + offset) / M on the full grid, shape (M,)*n."""
    total = grid**objective.n
    batch = min(_SAMPLE_BATCH, total)
    count = math.ceil(total / batch)
    flat = jnp.arange(count * batch).reshape(count, batch) % total
    samples = _sample_batches(objective, flat, jnp.asarray(offset), grid)
    return samples.reshape(-1)[:total].reshape((grid,) * objective.n)


@eqx.filter_jit
def _sample_batches(objective: Objective, flat, offset, grid: int) -> Array:
    def one_batch(indices):
        digits = jnp.stack(jnp.unravel_index(indices, (grid,) * objective.n), axis=-1)
        points = (digits.astype(float) + offset) * (TWO_PI / grid)
        return jax.vmap(lambda z: value(objective, z))(points)

    return jax.lax.map(one_batch, flat)


def _complex_to_real(order: int) -> np.ndarray:
    """R with exp(i k theta) = sum_m R[k + N, m] h_m(theta) for k = -N..N."""
    size = 2 * order + 1
    matrix = np.zeros((size, size), complex)
    matrix[order, 0] = 1.0
    for k in range(1, order + 1):
        matrix[order + k, k] = 1.0
        matrix[order + k, order + k] = 1.0j
        matrix[order - k, k] = 1.0
        matrix[order - k, order + k] = -1.0j
    return matrix


def _real_to_complex(order: int) -> np.ndarray:
    """R^-1, so that h_m = sum_k R^-1[m, k + N] exp(i k theta)."""
    return np.linalg.inv(_complex_to_real(order))
