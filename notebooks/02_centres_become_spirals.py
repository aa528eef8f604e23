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
# # Centres become spirals
#
# **Question: what do the higher Fourier modes do to training near the Nash
# equilibrium?**
#
# Gradient descent-ascent follows the flow θ̇_G = −∂F/∂θ_G, θ̇_D = +∂F/∂θ_D. For the
# order-1 series of the exponential GAN the Nash equilibrium at (0, 0) is a centre:
# training circles it forever on closed orbits. Higher orders turn it into a spiral
# attractor, and the exact objective's eigenvalues there are −1/4 ± i√15/4 (the
# README derives them). Below: trajectories from the same three starts for orders
# 1, 2, 4 and the exact F, then the Nash eigenvalues of each order.

# %%
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import jaxfgan as jf

# %matplotlib inline


@jax.jit
def nash_spectrum(objective, z):
    """Newton's method on the flow from z; the equilibrium and its eigenvalues."""

    def newton(z, _):
        jac = jf.flow_jacobian(objective, z)
        return z - jnp.linalg.solve(jac, jf.vector_field(objective, z)), None

    z = jax.lax.scan(newton, z, None, length=30)[0]
    return z, jnp.linalg.eigvals(jf.flow_jacobian(objective, z))


F = jf.exponential_gan()
coefficients = jf.fourier_coefficients(F, grid=128)
starts = jnp.array([[0.4, 0.0], [0.8, 0.0], [1.2, 0.0]])
ts = jnp.linspace(0.0, 40.0, 800)

objectives = {f"order {N}": coefficients.truncate(N) for N in (1, 2, 4)} | {"exact": F}
fig, axes = plt.subplots(1, 4, figsize=(16, 4.4), layout="constrained", sharey=True)
for ax, (label, objective) in zip(axes, objectives.items(), strict=True):
    solution = jf.integrate_flow(objective, starts, t1=40.0, ts=ts)
    for path in np.asarray(jf.wrap_angles(solution.ys)):
        ax.plot(path[:, 0], path[:, 1], linewidth=0.9)
        ax.plot(*path[0], "k.")
    z, eigvals = nash_spectrum(objective, jnp.zeros(2))
    lam = complex(eigvals[np.argmax(np.asarray(eigvals).imag)])
    ax.plot(*z, "r*", markersize=12)
    ax.set(title=f"{label}: λ = {lam.real:.3f} ± {lam.imag:.3f}i", xlabel="θ_G")
    ax.set(xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), aspect="equal")
axes[0].set_ylabel("θ_D")
plt.show()

# %% [markdown]
# At order 1 the three orbits close on themselves around the series' own centre
# (red star), which sits 0.4 rad away from the exact Nash point (0, 0). From order 2
# on, trajectories started near the equilibrium wind in to it, as for the exact
# objective; at orders 2 and 4 those started farther out are caught by other parts
# of a still-wrong landscape. How fast they wind in is set by the Jacobian's
# eigenvalues α ± iω at the equilibrium: the distance shrinks by e every 1/|α| time
# units while the orbit turns ω/(2π|α|) times, the *turns per e-fold*. Each
# series' equilibrium near (0, 0) is found by Newton's method on the flow, with the
# public `vector_field` and `flow_jacobian` (the function above).

# %%
exact = -0.25 + 1j * np.sqrt(15) / 4
orders = np.array([1, 2, 3, 4, 6, 8, 12, 16, 24])
eigenvalue = []
for N in orders:
    z, eigvals = nash_spectrum(coefficients.truncate(int(N)), jnp.zeros(2))
    eigenvalue.append(complex(eigvals[np.argmax(np.asarray(eigvals).imag)]))
eigenvalue = np.array(eigenvalue)
turns = np.abs(eigenvalue.imag) / (2 * np.pi * np.maximum(-eigenvalue.real, 1e-300))

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
left.semilogy(orders, np.abs(eigenvalue - exact), "o-", ms=4)
left.set(xlabel="order N", title="|λ_N − λ| at the Nash point, λ = −1/4 + i√15/4")
left.grid(alpha=0.3)
right.semilogy(orders[1:], turns[1:], "o-", ms=4, label="order-N series")
right.axhline(np.sqrt(15) / (2 * np.pi), color="k", linestyle=":", label="exact")
right.set(xlabel="order N", title="turns per e-fold, ω / (2π|α|) (order 1: ∞)")
right.legend()
right.grid(alpha=0.3)
plt.show()

# %% [markdown]
# The numbers: order 1 has α = 0 (a centre: infinitely many turns per e-fold), and
# order 3 almost so (about 40 turns per e-fold). The damping −1/4 is close from
# order 4 on, and the eigenvalues are within 10⁻³ of the exact ones from order 12
# on: the error falls by about 10 every 8 orders.

# %%
for N, lam in zip(orders, eigenvalue, strict=True):
    print(
        f"order {N:2d}: λ = {lam.real:+.6f} ± {abs(lam.imag):.6f}i, "
        f"|λ_N − λ| = {abs(lam - exact):.1e}"
    )
print(
    f"exact   : λ = {exact.real:+.6f} ± {exact.imag:.6f}i, "
    f"{np.sqrt(15) / (2 * np.pi):.4f} turns per e-fold"
)
