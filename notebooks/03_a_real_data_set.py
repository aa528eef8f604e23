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
# # A real data set
#
# **Question: does the torus GAN, trained on real waiting times, learn the rate a
# statistician would estimate?**
#
# The data: 190 intervals, in days, between explosions in British coal mines that
# killed ten or more men, 1851-1962 (Jarrett 1979; shipped with jaxfgan). For
# an exponential model the maximum-likelihood rate is 1 / (sample mean). The GAN's
# generator produces Exp(λ_G(θ_G)) samples, and at its Nash equilibria the flow has
# driven λ_G to some value: the learned rate. Below, the fitted densities first,
# then the portrait of the training flow.

# %%
import matplotlib.pyplot as plt
import numpy as np

import jaxfgan as jf

# %matplotlib inline

days = np.asarray(jf.read_waiting_times(jf.dataset_path("coal")))
F = jf.exponential_gan(data=days)  # unit: the sample median, so angles stay O(1)
found = jf.find_equilibria(F)
nash = [point for point in found.points if point.nash]
learned = float(F.learned_rate(nash[0].theta[0]))
mle = 1 / days.mean()

x = np.linspace(0, days.max(), 400)
fig, ax = plt.subplots(figsize=(8, 4), layout="constrained")
ax.hist(days, bins=40, density=True, color="#cccccc", label=f"{days.size} intervals")
ax.plot(x, learned * np.exp(-learned * x), "r-", lw=2, label=f"GAN: λ = {learned:.6g}")
ax.plot(x, mle * np.exp(-mle * x), "k:", lw=2, label=f"MLE 1/mean: λ = {mle:.6g}")
ax.set(xlabel="days between disasters", ylabel="density", yscale="log")
ax.set_ylim(1e-6, 1e-2)
ax.legend()
plt.show()

# %% [markdown]
# The two densities are the same line. That is no accident: at a Nash point
# sin θ_D = 0, so the discriminator is D = 1/2 everywhere, and the discriminator's
# gradient there is proportional to E_data[x] − E_fake[x]. It vanishes only when
# the generator's mean 1/λ_G equals the sample mean. The Poincaré-Hopf check
# (indices summing to 0 on the torus) says no equilibrium was missed:

# %%
print(f"learned rate {learned:.10g} per day, 1 / mean {mle:.10g} per day")
print(f"{len(found.points)} equilibria, {len(nash)} Nash, index sum {found.index_sum}")
for point in nash[:1]:
    print("Nash eigenvalues:", np.round(point.eigenvalues, 4), point.kind)

# %% [markdown]
# The training flow for the exact objective and its order-4 series: heat map of F,
# streamlines, a few trajectories and every equilibrium, Nash ones ringed.

# %%
panels = jf.portrait_panels(F, orders=(4,), trajectories=3)
jf.plot_portrait(panels)
plt.show()

# %% [markdown]
# The order-4 series keeps the four spiral attractors near their places, but they
# are no longer Nash points (a truncated series often has stable points that are
# not Nash), and it invents a Nash node attractor at (π/2, π/2) and extra
# repellers and saddles along θ_G = −π/2, where F is steepest. Order 4 is too low
# for this data set; `jaxfgan truncation --data coal` says how high to go.
