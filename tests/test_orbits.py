"""Periodic orbits and rotation against elliptic integrals, spectra and solve_ivp."""

import json
import math

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate
from scipy.special import ellipk

import jaxfgan as jf
from jaxfgan._cli import main
from jaxfgan._orbits import find_orbits, follow_orbit
from jaxfgan._rotation import rotation_contraction

SINE_PRODUCT = jf.UserObjective(lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0]))
GAN = jf.exponential_gan()


def _elliptic_period(theta0):
    # F = sin g sin d conserves cos g cos d; on the orbit through (theta0, 0) the
    # pendulum-like reduction gives the period 4 K(m), m = sin^2 theta0.
    return 4 * ellipk(np.sin(theta0) ** 2)


def test_sine_product_centres_and_saddles():
    found = jf.find_equilibria(SINE_PRODUCT)
    centres = [p for p in found.points if p.kind == "center"]
    saddles = [p for p in found.points if p.kind == "saddle"]
    expected = {(0.0, 0.0), (0.0, -math.pi), (-math.pi, 0.0), (-math.pi, -math.pi)}
    assert {tuple(np.round(p.theta, 9) + 0.0) for p in centres} == {
        tuple(np.round(x, 9)) for x in expected
    }
    for point in centres:
        np.testing.assert_allclose(point.eigenvalues, [-1j, 1j], atol=1e-12)
    halves = {tuple(np.round(np.abs(p.theta), 9)) for p in saddles}
    assert len(saddles) == 4 and halves == {(round(math.pi / 2, 9),) * 2}


@pytest.mark.parametrize("theta0", [0.01, 0.5, 1.2])
def test_orbit_period_is_elliptic(theta0):
    closed, back = follow_orbit(SINE_PRODUCT, [theta0, 0.0])
    assert closed and back.drift < 1e-8 and back.winding.tolist() == [0, 0]
    # tolerance: rtol 1e-10 integration, O(h^4) ~ 1e-10 Hermite crossing
    assert back.time == pytest.approx(_elliptic_period(theta0), rel=1e-8)
    if theta0 == 0.5:
        assert back.time == pytest.approx(6.6999757, abs=1e-7)
    if theta0 == 0.01:
        assert back.time == pytest.approx(2 * math.pi, rel=1e-4)  # small orbits
    invariant = np.cos(back.path[:, 0]) * np.cos(back.path[:, 1])
    np.testing.assert_allclose(invariant, math.cos(theta0), atol=1e-9)


def test_sine_product_families():
    orbits, families = find_orbits(
        SINE_PRODUCT, jf.find_equilibria(SINE_PRODUCT), amplitudes=4
    )
    assert len(families) == 4 and len(orbits) == 16
    for orbit in orbits:
        centre = np.round(orbit.start / math.pi) * math.pi
        theta0 = abs(orbit.start[0] - centre[0])
        assert orbit.kind == "closed"
        assert orbit.period == pytest.approx(_elliptic_period(theta0), rel=1e-7)
        # a family's monodromy is a Jordan block at 1: eigenvalues to ~sqrt(eps)
        np.testing.assert_allclose(orbit.multipliers, [1.0, 1.0], atol=1e-3)
    for family in families:
        assert family.small_amplitude_period == pytest.approx(2 * math.pi)
        assert np.all(np.diff(family.periods) > 0)  # period grows with amplitude


def test_orbits_that_wrap_around_the_torus():
    # F = sin(g - d): u = g - d is conserved and g' = d' = -cos u, so every orbit
    # is a straight line of slope 1, closed on the torus after 2 pi / |cos u| with
    # winding -sign(cos u) (1, 1): a family of closed orbits that wrap.
    F = jf.UserObjective(lambda g, d: jnp.sin(g[0] - d[0]))
    closed, back = follow_orbit(F, [0.5, 0.0])
    assert closed and back.winding.tolist() == [-1, -1]
    assert back.time == pytest.approx(2 * math.pi / math.cos(0.5), rel=1e-10)
    orbits, families = find_orbits(F, jf.Equilibria([], 0, 0), amplitudes=4)
    assert families == [] and len(orbits) == 8  # 4 per circle theta = 0
    for orbit in orbits:
        u = orbit.start[0] - orbit.start[1]
        assert orbit.kind == "closed"
        assert orbit.period == pytest.approx(2 * math.pi / abs(math.cos(u)), rel=1e-10)
        assert orbit.winding.tolist() == [-np.sign(math.cos(u))] * 2
        np.testing.assert_allclose(orbit.multipliers, [1.0, 1.0], atol=1e-6)


def test_slow_spiral_is_not_a_cycle():
    # F = sin g sin d + delta cos d: at (0, 0) J = [[0, -1], [1, -delta]], a spiral
    # attractor with lambda = -delta/2 +- i ~1, contracting by exp(-pi delta) per
    # turn, so the relative drift of a return is ~ pi delta = 3.1e-4 >> 1e-6.
    delta = 1e-4
    F = jf.UserObjective(
        lambda g, d: jnp.sin(g[0]) * jnp.sin(d[0]) + delta * jnp.cos(d[0])
    )
    closed, back = follow_orbit(F, [0.3, 0.0])
    assert not closed
    assert back.drift == pytest.approx(math.pi * delta, rel=0.2)


def test_exact_gan_has_no_closed_orbit_near_nash():
    # (the drift of one return, 1 - exp(-2 pi / sqrt 15) = 0.8, is checked through
    # the command line in test_orbits_cli_through_and_families)
    nash = jf.Equilibria([jf.classify(GAN, [0.0, 0.0])], 0, 0)
    orbits, families = find_orbits(GAN, nash, amplitudes=3, turns=4)
    assert orbits == [] and families == []


@pytest.mark.parametrize("data", [None, "coal"])
def test_turns_per_efold_match_the_spectrum(data):
    # default: lambda = (-1 +- i sqrt 15) / 4 at every Nash point, sqrt(15) / (2 pi)
    # turns; coal: 0.0823 turns per e-fold, half a turn contracts by e^-6
    model = GAN
    if data is not None:
        model = jf.exponential_gan(data=jf.read_waiting_times(jf.dataset_path(data)))
    nash = [p for p in jf.find_equilibria(model).points if p.nash]
    assert len(nash) == 4
    for point in nash:
        rotation = rotation_contraction(model, point)
        if data is None:
            assert rotation.predicted == pytest.approx(math.sqrt(15) / (2 * math.pi))
        assert rotation.relative_difference < 0.01
        # start 1e-4 from the spiral: the nonlinear terms shift it by O(1e-4)
        assert rotation.measured == pytest.approx(rotation.predicted, rel=1e-3)


def test_order_one_gan_closed_orbits_close_under_solve_ivp():
    series = jf.fourier_coefficients(GAN, 32).truncate(1)
    found = jf.find_equilibria(series)
    orbits, families = find_orbits(series, found, amplitudes=3)
    assert len(families) == 4 and found.count("center") == 4
    assert all(orbit.kind == "closed" for orbit in orbits)
    field = _numpy_field(series)
    for orbit in orbits[::3]:
        ref = integrate.solve_ivp(
            lambda t, z: field(z),
            (0, orbit.period),
            orbit.start,
            method="DOP853",
            rtol=1e-12,
            atol=1e-13,
        )
        np.testing.assert_allclose(ref.y[:, -1], orbit.start, atol=1e-7)
    for family in families:
        # the period falls towards 2 pi / |Im lambda| as the amplitude -> 0
        # (2 % above it at the smallest amplitude sampled here, about 0.25 rad)
        assert np.all(np.diff(family.periods) > 0)
        assert family.periods[0] > family.small_amplitude_period
        assert family.periods[0] == pytest.approx(
            family.small_amplitude_period, rel=0.05
        )


def _numpy_field(objective):
    import jax

    field = jax.jit(lambda z: jf.vector_field(objective, z))
    return lambda z: np.asarray(field(jnp.asarray(z)))


MU, NU = -0.05, -0.025


def test_limit_cycle_multiplier_is_the_divergence_integral():
    # F = sin g sin d + MU cos g + NU cos 2d: div v = -F_gg + F_dd
    # = MU cos g - 4 NU cos 2d, positive at the spiral (0, 0) and negative far out,
    # so a limit cycle surrounds it; its nontrivial Floquet multiplier is
    # exp(integral of div v over one period) (Liouville).
    F = jf.UserObjective(
        lambda g, d: (
            jnp.sin(g[0]) * jnp.sin(d[0]) + MU * jnp.cos(g[0]) + NU * jnp.cos(2 * d[0])
        )
    )
    spiral = jf.classify(F, [0.0, 0.0])
    assert spiral.kind == "spiral repeller"
    equilibria = jf.find_equilibria(F)
    # around (0, 0) only; the saddles bound its section
    near = [
        p for p in equilibria.points if p.kind == "saddle" or np.allclose(p.theta, 0.0)
    ]
    orbits, _ = find_orbits(F, jf.Equilibria(near, 0, 0), amplitudes=6)
    assert [o.kind for o in orbits] == ["limit cycle"]
    cycle = orbits[0]

    def rhs(t, state):
        g, d, _ = state
        return [
            -math.cos(g) * math.sin(d) + MU * math.sin(g),
            math.sin(g) * math.cos(d) - 2 * NU * math.sin(2 * d),
            MU * math.cos(g) - 4 * NU * math.cos(2 * d),
        ]

    ref = integrate.solve_ivp(
        rhs,
        (0, cycle.period),
        [*cycle.start, 0.0],
        rtol=1e-12,
        atol=1e-13,
        method="DOP853",
    )
    np.testing.assert_allclose(ref.y[:2, -1], cycle.start, atol=1e-7)
    np.testing.assert_allclose(
        sorted(cycle.multipliers.real), sorted([1.0, math.exp(ref.y[2, -1])]), rtol=1e-6
    )
    assert cycle.multipliers.real.min() < 1  # a stable (attracting) cycle


def test_orbits_cli_through_and_families(capsys, tmp_path):
    game = tmp_path / "game.py"
    game.write_text(
        "import jax.numpy as jnp\n\n"
        "def F(theta_g, theta_d):\n"
        "    return jnp.sin(theta_g[0]) * jnp.sin(theta_d[0])\n"
    )
    spec = f"{game}:F"
    assert main(["orbits", "--objective", spec, "--through", "0.5,0", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["closed"] is True and record["drift"] < 1e-8
    assert record["period"] == pytest.approx(6.6999757, abs=1e-7)
    assert main(["orbits", "--through", "0.3,0", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["closed"] is False and record["period"] is None
    # exact GAN: a turn shrinks the distance by exp(-2 pi / sqrt 15) = 0.20
    assert record["drift"] > 0.5
    out = tmp_path / "o"
    argv = ["orbits", "--order", "1", "--fourier-grid", "32", "--out", str(out)]
    assert main([*argv, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert len(record["families"]) == 4 and record["spirals"] == []
    assert {o["kind"] for o in record["orbits"]} == {"closed"}
    assert all(
        set(o) >= {"period", "amplitude", "multipliers"} for o in record["orbits"]
    )
    assert (out / "orbits.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "argv, expect",
    [
        (["--through", "0,0"], "is an equilibrium"),
        (["--through", "a,b"], "--through"),
        (["--through", "1,2,3"], "--through"),
        (["--tolerance", "0"], "--tolerance"),
    ],
)
def test_orbits_bad_options(capsys, argv, expect):
    try:
        status = main(["orbits", *argv])
    except SystemExit as stop:
        status = stop.code
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and err.count("\n") == 1 and expect in err
