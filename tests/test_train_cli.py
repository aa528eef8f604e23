"""The command line's new model options and `jaxfgan train`: contracts, closed
forms, real data, and every bad input."""

import json
import math

import numpy as np
import pytest

import jaxfgan as jf

SINE_PRODUCT = """
import jax.numpy as jnp

def S(theta_g, theta_d):
    return jnp.sin(theta_g[0]) * jnp.sin(theta_d[0])
"""


def test_train_dirac_json_contract(cli, tmp_path):
    # simgd on the Dirac GAN: rho = sqrt(1 + h^2/4) at the only equilibrium (0, 0)
    # (M = I + hJ, J = [[0, -1/2], [1/2, 0]]), no stable learning rate at all.
    h = 0.2
    out_dir = tmp_path / "dirac"
    status, out, _ = cli.run(
        "train",
        "--model",
        "dirac",
        "--method",
        "simgd",
        "--lr",
        str(h),
        "--steps",
        "50",
        "--starts",
        "3",
        "--out",
        str(out_dir),
        "--json",
    )
    assert status == 0
    record = json.loads(out)
    assert set(record) == {"method", "equilibria", "converged_fraction"}
    assert record["method"] == "simgd" and record["converged_fraction"] == 0.0
    (point,) = record["equilibria"]
    assert set(point) == {
        "theta",
        "nash",
        "spectral_radius",
        "verdict",
        "max_stable_lr",
    }
    assert point["nash"] and point["verdict"] == "diverges"
    assert point["spectral_radius"] == pytest.approx(math.sqrt(1 + h**2 / 4))
    assert point["max_stable_lr"] is None
    png = out_dir / "training.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in out_dir.iterdir()] == ["training.png"]


@pytest.mark.parametrize("data", [None, "coal"])
def test_train_exponential_matches_flow_spectrum(cli, tmp_path, data):
    # simgd's map at an equilibrium is I + hJ, J the flow's Jacobian, so rho is
    # max |1 + h lambda| over the flow's eigenvalues (from `equilibria`, a
    # separate computation); for Exp(1) at the Nash points |1 + h lambda|^2 =
    # 1 - h/2 + h^2, stable up to h = 1/2.
    h = 0.3
    model = [] if data is None else ["--data", data]
    _, out, _ = cli.run("equilibria", *model, "--json")
    flow = json.loads(out)["equilibria"]
    status, out, _ = cli.run(
        "train",
        *model,
        "--method",
        "simgd",
        "--lr",
        str(h),
        "--steps",
        "400",
        "--starts",
        "4",
        "--out",
        str(tmp_path / "run"),
        "--json",
    )
    assert status == 0
    record = json.loads(out)
    assert len(record["equilibria"]) == len(flow)
    for point, reference in zip(record["equilibria"], flow, strict=True):
        np.testing.assert_allclose(point["theta"], reference["theta"], atol=1e-9)
        eigenvalues = np.array([complex(*pair) for pair in reference["eigenvalues"]])
        expected = np.max(np.abs(1 + h * eigenvalues))
        assert point["spectral_radius"] == pytest.approx(expected, rel=1e-9)
    nash = [p for p in record["equilibria"] if p["nash"]]
    assert len(nash) == 4 and all(p["verdict"] == "converges" for p in nash)
    if data is None:
        assert all(p["max_stable_lr"] == pytest.approx(0.5, abs=1e-7) for p in nash)
    assert 0.0 < record["converged_fraction"] <= 1.0


def test_train_several_methods_text(cli, tmp_path):
    status, out, _ = cli.run(
        "train",
        "--model",
        "dirac",
        "--method",
        "altgd,extragradient",
        "--lr",
        "0.5",
        "--steps",
        "20",
        "--starts",
        "2",
        "--out",
        str(tmp_path / "two"),
    )
    assert status == 0
    assert "altgd (lr 0.5, lr-d 0.5)" in out and "oscillates" in out
    # extragradient on the Dirac GAN: |1 +- ihA - h^2A^2|^2 = 1 - h^2/4 + h^4/16
    rho = math.sqrt(1 - 0.5**2 / 4 + 0.5**4 / 16)
    assert f"spectral radius {rho:.6g}, converges" in out


def test_equilibria_dirac_with_r1(cli):
    # -gamma/2 +- sqrt(gamma^2/4 - f'(0)^2), f'(0) = 1/2, gamma = 0.3.
    status, out, _ = cli.run(
        "equilibria", "--model", "dirac", "--regularizer", "r1:0.3", "--json"
    )
    assert status == 0
    record = json.loads(out)
    assert record["poincare_hopf_ok"] is None
    (point,) = record["equilibria"]
    assert point["kind"] == "spiral attractor"
    np.testing.assert_allclose(
        point["eigenvalues"], [[-0.15, -0.4769696], [-0.15, 0.4769696]], atol=1e-7
    )
    status, out, _ = cli.run("equilibria", "--model", "dirac")
    assert "no Poincare-Hopf check" in out and "Dirac GAN" in out


def test_regularized_series(cli, tmp_path):
    # S = sin g sin d is its own order-1 series. Consensus at the centre (0, 0):
    # J_v = [[0, -1], [1, 0]] and grad(|v|^2 / 2) has Jacobian J_v^T J_v = I there,
    # so the series' flow with consensus has eigenvalues -gamma +- i.
    path = tmp_path / "game.py"
    path.write_text(SINE_PRODUCT)
    status, out, _ = cli.run(
        "equilibria",
        "--objective",
        f"{path}:S",
        "--order",
        "1",
        "--fourier-grid",
        "8",
        "--regularizer",
        "consensus:0.2",
        "--json",
    )
    assert status == 0
    point = next(
        p for p in json.loads(out)["equilibria"] if np.allclose(p["theta"], 0.0)
    )
    np.testing.assert_allclose(point["eigenvalues"], [[-0.2, -1], [-0.2, 1]], atol=1e-9)


def test_portrait_dirac(cli, tmp_path):
    out_dir = tmp_path / "portrait"
    status, out, _ = cli.run(
        "portrait", "--model", "dirac", "--starts", "4", "--out", str(out_dir)
    )
    assert status == 0
    summary = json.loads((out_dir / "summary.json").read_text())
    (panel,) = summary["panels"]
    assert panel["poincare_hopf_ok"] is None and len(panel["equilibria"]) == 1
    assert "no Poincare-Hopf check" in out


def test_user_objective_on_the_plane(cli, tmp_path):
    # F = theta_g theta_d on R^2 has its only equilibrium at 0, a centre (+- i).
    path = tmp_path / "plane.py"
    path.write_text("def F(g, d):\n    return g[0] * d[0]\n")
    status, out, _ = cli.run(
        "equilibria", "--objective", f"{path}:F", "--box", "-3,3", "--json"
    )
    assert status == 0
    record = json.loads(out)
    assert record["poincare_hopf_ok"] is None
    (point,) = record["equilibria"]
    np.testing.assert_allclose(point["eigenvalues"], [[0, -1], [0, 1]], atol=1e-12)


TRAIN = ["train", "--method", "simgd", "--lr", "0.1"]


@pytest.mark.parametrize(
    "argv, expect",
    [
        (["train", "--method", "sgd", "--lr", "0.1"], "expected one or more of"),
        (["train", "--method", "simgd", "--lr", "0"], "must be finite and > 0"),
        (["train", "--method", "simgd", "--lr", "nan"], "must be finite and > 0"),
        ([*TRAIN, "--lr-d", "-1"], "must be finite and > 0"),
        ([*TRAIN, "--momentum", "0.5"], "--momentum applies to --method momentum only"),
        (
            ["train", "--method", "momentum", "--lr", "0.1", "--momentum", "1.5"],
            "momentum must lie in (-1, 1)",
        ),
        ([*TRAIN, "--g-steps", "2"], "--g-steps and --d-steps apply to --method altgd"),
        ([*TRAIN, "--steps", "0"], "must be >= 1"),
        ([*TRAIN, "--box", "-1,1"], "--box applies to --model dirac or --objective"),
        (
            [*TRAIN, "--model", "dirac", "--box", "2,1"],
            "--box: expected finite LO < HI",
        ),
        ([*TRAIN, "--model", "dirac", "--box", "a"], "--box: expected LO,HI"),
        ([*TRAIN, "--regularizer", "adam:1"], "--regularizer: expected NAME:VALUE"),
        ([*TRAIN, "--regularizer", "sga:x"], "expected a number after sga:"),
        ([*TRAIN, "--regularizer", "ttur:0"], "ttur needs a ratio > 0"),
        ([*TRAIN, "--dirac-loss", "wgan"], "--dirac-loss applies to --model dirac"),
        ([*TRAIN, "--model", "dirac", "--rate", "2"], "--rate applies to the"),
        ([*TRAIN, "--model", "dirac", "--objective", "x.py:F"], "give one"),
        (["equilibria", "--model", "dirac", "--order", "2"], "needs the torus"),
        (["fourier", "--model", "dirac", "--order", "2"], "needs the torus"),
        (["portrait", "--model", "dirac", "--orders", "1"], "needs the torus"),
        (["equilibria", "--objective", "x.py:F", "--regularizer", "r1:1"], "x.py"),
    ],
)
def test_bad_train_and_model_options(cli, tmp_path, argv, expect):
    if argv[0] in ("train", "portrait"):
        argv = [*argv, "--out", str(tmp_path / "out")]
    cli.fails(*argv, expect=expect)
    assert not (tmp_path / "out").exists()


def test_r1_needs_a_discriminator(cli, tmp_path):
    path = tmp_path / "plane.py"
    path.write_text("def F(g, d):\n    return g[0] * d[0]\n")
    cli.fails(
        "equilibria",
        "--objective",
        f"{path}:F",
        "--regularizer",
        "r1:1",
        expect="only the exponential and Dirac GANs",
    )


def test_train_needs_two_parameters(cli, tmp_path):
    path = tmp_path / "three.py"
    path.write_text(
        "import jax.numpy as jnp\ndef F(g, d):\n    return g[0] * g[1] * d[0]\n"
    )
    cli.fails(
        *TRAIN,
        "--objective",
        f"{path}:F",
        "--dims",
        "2,1",
        "--out",
        str(tmp_path / "out"),
        expect="one parameter per player",
    )


def test_dirac_gan_is_public():
    assert isinstance(jf.dirac_gan(), jf.DiracGAN)
