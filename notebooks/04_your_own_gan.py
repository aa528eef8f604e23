# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Your own GAN
#
# **Question: how do I study my own GAN, with several angles per player?**
#
# Any JAX function F(theta_g, theta_d) of two 1-D arrays of angles is a game on the
# torus once wrapped in `jf.UserObjective(F, n_g, n_d)`. Here: a Gaussian GAN with
# two angles per player. The generator makes x = μ + σz, z ~ N(0, 1), with
# μ = 2 sin θ_G1 and σ = exp(0.7 sin θ_G2); the discriminator is a logistic
# regression on the features x and x², D(x) = sigmoid(sin θ_D1 (x − 1/2) +
# ¼ sin θ_D2 (x² − 2)). The target is N(1/2, 1.5²). Expectations over z use
# 32-node Gauss-Hermite quadrature, so F is smooth and exact to round-off.
#
# First the result: where training ends, from 64 random starts.

# %%
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from numpy.polynomial.hermite_e import hermegauss

import jaxfgan as jf

# %matplotlib inline

nodes, weights = hermegauss(32)  # E[f(z)] = sum w_i f(z_i) / sum w_i, z ~ N(0, 1)
z, w = jnp.asarray(nodes), jnp.asarray(weights / weights.sum())
TARGET_MEAN, TARGET_STD = 0.5, 1.5


def generator(theta_g):
    return 2.0 * jnp.sin(theta_g[0]), jnp.exp(0.7 * jnp.sin(theta_g[1]))


def gaussian_gan(theta_g, theta_d):
    def logit(x):
        return jnp.sin(theta_d[0]) * (x - 0.5) + 0.25 * jnp.sin(theta_d[1]) * (x**2 - 2)

    mean, std = generator(theta_g)
    real = jnp.dot(w, jax.nn.log_sigmoid(logit(TARGET_MEAN + TARGET_STD * z)))
    fake = jnp.dot(w, jax.nn.log_sigmoid(-logit(mean + std * z)))
    return real + fake


F = jf.UserObjective(gaussian_gan, n_g=2, n_d=2)

starts = np.random.default_rng(0).uniform(-np.pi, np.pi, (64, 4))
solution = jf.integrate_flow(F, starts, t1=200.0, ts=jnp.linspace(0, 200, 201))
means, stds = jax.vmap(generator)(solution.ys.reshape(-1, 4)[:, :2])
means, stds = np.asarray(means).reshape(64, -1), np.asarray(stds).reshape(64, -1)

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
for m, s in zip(means[:6], stds[:6], strict=True):
    left.plot(m, s, color="#1f77b4", alpha=0.6, linewidth=0.8)
left.plot(means[:, 0], stds[:, 0], "o", color="#aaaaaa", ms=3, label="at t = 0")
left.plot(means[:, -1], stds[:, -1], "k.", label="at t = 200")
left.plot(TARGET_MEAN, TARGET_STD, "r*", markersize=14, label="target N(1/2, 1.5²)")
left.set(
    xlabel="generator mean μ",
    ylabel="generator std σ",
    title="training: 64 starts, 6 paths drawn",
)
left.legend()
right.plot(
    np.asarray(solution.ts),
    np.abs(means - TARGET_MEAN).T,
    color="#1f77b4",
    alpha=0.3,
    linewidth=0.7,
)
right.set(yscale="log", xlabel="time", title="|μ − 1/2| along each path (log scale)")
plt.show()

# %% [markdown]
# Every start ends on the target's mean and standard deviation, after circling it
# for a while; the error levels off near 10⁻⁶, the integrator's tolerance. The
# theory is the
# same as for the exponential GAN: at sin θ_D1 = sin θ_D2 = 0 the discriminator
# is D = 1/2, and its gradient is proportional to the differences of E[x] and
# E[x²] between data and fakes, so the Nash points match the first two moments.
# There are 16 of them: μ = 2 sin θ_G1 = 1/2 and exp(0.7 sin θ_G2) = 1.5 each
# have two solutions, and θ_D1, θ_D2 are each 0 or π. `jf.classify` checks one:

# %%
theta_g1 = np.arcsin(TARGET_MEAN / 2)
theta_g2 = np.arcsin(np.log(TARGET_STD) / 0.7)
point = jf.classify(F, [theta_g1, theta_g2, 0.0, 0.0])
print("flow there:", np.asarray(jf.vector_field(F, point.theta)))
print(point.kind, "Nash" if point.nash else "not Nash", np.round(point.eigenvalues, 4))
converged = np.hypot(means[:, -1] - TARGET_MEAN, stds[:, -1] - TARGET_STD) < 1e-3
print(f"{converged.sum()} of 64 starts learn the target to 1e-3")

# %% [markdown]
# The Fourier machinery handles up to four angles in all. With four angles the
# grid has M⁴ points, so keep M small: 16 points per angle allow orders up to 7.
# The series converges, and the Jacobian of its flow at the Nash point approaches
# the exact one. (`jf.find_equilibria` works with four angles too, but it runs
# Newton from 6⁴ starts or more and takes minutes on a laptop.)


# %%
@jax.jit
def spectrum(objective, theta):
    return jnp.sort_complex(jnp.linalg.eigvals(jf.flow_jacobian(objective, theta)))


coefficients = jf.fourier_coefficients(F, grid=16)
exact = spectrum(F, jnp.asarray(point.theta))
orders = np.arange(1, 8)
sup = [coefficients.sup_error(int(N)) for N in orders]
missed = [1 - coefficients.energy_captured(int(N)) for N in orders]
jacobian = [
    float(
        jnp.max(jnp.abs(spectrum(coefficients.truncate(int(N)), point.theta) - exact))
    )
    for N in orders
]

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
ax.semilogy(orders, sup, "o-", label="sup |F − F_N| (grid nodes and cell centres)")
ax.semilogy(orders, missed, "s-", label="1 − energy kept")
ax.semilogy(orders, jacobian, "D-", label="eigenvalues of the flow's Jacobian at Nash")
ax.set(xlabel="order N", title="the four-angle Gaussian GAN's Fourier series")
ax.grid(alpha=0.3)
ax.legend()
plt.show()
