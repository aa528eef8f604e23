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
# # From objective to Fourier modes
#
# **Question: how many Fourier modes does the exponential GAN's objective need?**
#
# The exponential torus GAN's objective F(θ_G, θ_D) is a smooth function on the
# torus, so it has a Fourier series F = Σ_k c_k e^{i k·θ}. Below: F itself beside its
# truncations at orders 1, 2, 4 and 8 (modes with max |k_j| ≤ N), then the size of
# every coefficient. The coefficients come from an FFT of F on a 128 × 128 grid.

# %%
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import jaxfgan as jf

# %matplotlib inline

F = jf.exponential_gan()  # target Exp(1), gen-scale 2, disc-scale 1, disc-center 1
coefficients = jf.fourier_coefficients(F, grid=128)
orders = (1, 2, 4, 8)
series = {N: coefficients.truncate(N) for N in orders}

axis = jnp.linspace(-jnp.pi, jnp.pi, 121)
g, d = jnp.meshgrid(axis, axis)  # rows: theta_D, columns: theta_G
points = jnp.stack([g.ravel(), d.ravel()], axis=1)


def heights(objective):
    values = jax.vmap(lambda z: jf.value(objective, z))(points)
    return np.asarray(values).reshape(axis.size, axis.size)


panels = {"exact F": heights(F)} | {f"order {N}": heights(series[N]) for N in orders}
low, high = panels["exact F"].min(), panels["exact F"].max()
fig, axes = plt.subplots(1, 5, figsize=(17, 3.6), layout="constrained")
for ax, (label, values) in zip(axes, panels.items(), strict=True):
    image = ax.pcolormesh(axis, axis, values, vmin=low, vmax=high, cmap="viridis")
    ax.set(title=label, xlabel="θ_G", aspect="equal")
axes[0].set_ylabel("θ_D")
fig.colorbar(image, ax=axes, shrink=0.8, label="F (colours clipped to exact range)")
plt.show()

# %% [markdown]
# Order 1 already has the right layout: a well above a ridge, both following the
# sign of sin θ_D. What it misses is the depth and the sharp edges of the well near
# (θ_G, θ_D) = (−π/2, π/2), where the generator's rate e^{2 sin θ_G} is smallest
# and the fake samples lie far out.
#
# The coefficients show why. Since log σ(u) = u/2 − log(2 cosh(u/2)), F is sin θ_D
# times a function of θ_G plus an even function of sin θ_D: besides k_D = ±1, only
# even k_D appear (odd |k_D| ≥ 3 vanish, the dark rows). Far-out fake samples make
# that even part close to |sin θ_D|, which has a kink, so |c_k| decays slowly in
# k_D, and much faster in k_G.

# %%
c = np.abs(np.asarray(coefficients.modes_tensor(20)))  # index k + 20 on each axis
k = np.arange(-20, 21)
all_orders = np.arange(0, 31)
sup = [coefficients.sup_error(int(N)) for N in all_orders]
missed = [1 - coefficients.energy_captured(int(N)) for N in all_orders]

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
image = left.pcolormesh(k, k, np.log10(c.T + 1e-300), vmin=-16, cmap="magma")
left.set(xlabel="k_G", ylabel="k_D", title="log10 |c_k|", aspect="equal")
fig.colorbar(image, ax=left)
right.semilogy(
    all_orders, sup, "o-", ms=3, label="sup |F − F_N| (grid nodes and cell centres)"
)
right.semilogy(all_orders, missed, "s-", ms=3, label="1 − energy kept (Parseval)")
right.set(xlabel="order N", title="what the order-N series leaves out")
right.grid(alpha=0.3)
right.legend()
plt.show()

# %% [markdown]
# The energy left out, Σ_{max|k_j|>N} |c_k|² over Σ_k |c_k|², can only shrink as N
# grows (Parseval; each order keeps more of the same non-negative terms), and it
# does so in steps of two, since odd k_D ≥ 3 add nothing. The sup error has no
# such guarantee, but here it falls too, slowly: about a factor 10 every 10 orders.
# The numbers behind the figures:

# %%
for N in orders:
    print(
        f"order {N}: {(2 * N + 1) ** 2:4d} modes, sup error {sup[N]:.3g}, "
        f"energy kept {1 - missed[N]:.6f}"
    )

# %% [markdown]
# `jaxfgan truncation` measures the same convergence against the exact F on a finer
# grid, together with what matters for training: equilibria, eigenvalues and
# trajectories (next notebook).
