"""`jaxfgan truncation`: its JSON contract, its files, and every bad input."""

import json

import pytest

GAMES = """
import jax.numpy as jnp

def F(theta_g, theta_d):
    return jnp.cos(theta_g[0]) * jnp.sin(theta_d[0])

def smooth(theta_g, theta_d):
    return jnp.exp(1.5 * jnp.cos(theta_g[0]) + jnp.sin(theta_d[0]))

def three(theta_g, theta_d):
    return jnp.sin(theta_g[0] + 0.5 * theta_g[1]) * jnp.sin(theta_d[0])
"""

CONTRACT = {
    "order",
    "sup_error",
    "field_error",
    "energy",
    "eigenvalue_error",
    "missing",
    "spurious",
    "trajectory_error",
    "seconds",
}


@pytest.fixture
def games(tmp_path):
    path = tmp_path / "games.py"
    path.write_text(GAMES)
    return path


def test_json_contract_and_files(cli, tmp_path, games):
    # cos g sin d is its own order-1 series: every error is round-off from order 1.
    out_dir = tmp_path / "study"
    status, out, _ = cli.run(
        "truncation",
        "--objective",
        f"{games}:F",
        "--orders",
        "1,2",
        "--grid",
        "8",
        "--t1",
        "2",
        "--target-error",
        "1e-12",
        "--out",
        str(out_dir),
        "--json",
    )
    assert status == 0
    record = json.loads(out)
    assert set(record) == {"orders", "smallest_order"}
    assert [row["order"] for row in record["orders"]] == [1, 2]
    for row in record["orders"]:
        assert set(row) >= CONTRACT
        assert row["sup_error"] < 1e-14 and row["energy"] == pytest.approx(1.0)
        assert row["missing"] == 0 and row["spurious"] == 0
        assert row["eigenvalue_error"] < 1e-9 and row["seconds"] > 0
    assert record["smallest_order"] == 1
    names = sorted(path.name for path in out_dir.iterdir())
    assert names == ["truncation.json", "truncation.md", "truncation.png"]
    written = json.loads((out_dir / "truncation.json").read_text())
    assert written["orders"] == record["orders"] and written["versions"]["jax"]
    assert (out_dir / "truncation.md").read_text().startswith("| N | sup error F |")
    assert (out_dir / "truncation.png").read_bytes()[:4] == b"\x89PNG"


def test_three_angles_and_text_output(cli, tmp_path, games):
    status, out, _ = cli.run(
        "truncation",
        "--objective",
        f"{games}:three",
        "--dims",
        "2,1",
        "--orders",
        "1",
        "--grid",
        "4",
        "--t1",
        "1",
        "--target-error",
        "1e-20",
        "--out",
        str(tmp_path / "three"),
    )
    assert status == 0
    assert "user objective three with 2 + 1 angles" in out
    assert "no order studied meets the target sup error 1e-20" in out


def test_aliasing_warning(cli, tmp_path, games):
    # exp(1.5 cos g + sin d) on 7 points: the coefficients aliased from |k| = 4 are
    # as large as the truncation error at order 3.
    status, _, err = cli.run(
        "truncation",
        "--objective",
        f"{games}:smooth",
        "--orders",
        "3",
        "--grid",
        "7",
        "--t1",
        "1",
        "--out",
        str(tmp_path / "aliased"),
    )
    assert status == 0
    assert "warning: truncation_study: at orders [3] the aliasing error" in err


@pytest.mark.parametrize(
    "argv, expect",
    [
        (["--orders", "0,1"], "--orders must be >= 1"),
        (["--orders", "70"], "order 70 needs a Fourier grid of at least 141"),
        (["--orders", "x"], "expected orders like 1,2,4,8"),
        (["--target-error", "-1"], "--target-error: must be finite and > 0"),
        (["--target-error", "nan"], "--target-error: must be finite and > 0"),
        (["--t1", "0"], "--t1: must be finite and > 0"),
        (["--grid", "9000", "--orders", "1"], "fine grid of 18000 points per angle"),
        (["--rate", "0"], "--rate must be > 0"),
        (["--objective", "nowhere.py:F"], "nowhere.py: no such file"),
        (["--model", "dirac"], "the Fourier series needs the torus"),
    ],
)
def test_bad_input(cli, tmp_path, argv, expect):
    out_dir = tmp_path / "never"
    cli.fails("truncation", "--out", str(out_dir), *argv, expect=expect)
    assert not out_dir.exists()


def test_basin_grid_adds_the_agreement(cli, tmp_path):
    # order 8 of the default GAN: one spiral attractor in each of the four basins
    # bounded by the invariant lines theta = +-pi/2, as for the exact flow
    status, out, _ = cli.run(
        "truncation",
        "--orders",
        "8",
        "--grid",
        "32",
        "--basin-grid",
        "4",
        "--out",
        str(tmp_path / "t"),
        "--json",
    )
    assert status == 0
    assert json.loads(out)["orders"][0]["basin_agreement"] == 1.0
