"""Basin maps against invariant lines and closed forms; chunks killed and resumed."""

import json
import math
import os
import signal
import subprocess
import sys
import time

import jax.numpy as jnp
import numpy as np
import pytest

import jaxfgan as jf
from jaxfgan._basins import UNSETTLED, basin_map
from jaxfgan._chunk_store import ChunkStore, fingerprint
from jaxfgan._cli import main

GAN = jf.exponential_gan()


@pytest.fixture(scope="module")
def gan_basins():
    return basin_map(GAN, grid=16, chunk_size=64)


def test_gan_basins_are_the_invariant_rectangles(gan_basins):
    # In the exponential GAN dtheta_g/dt is proportional to cos(theta_g) and
    # dtheta_d/dt to cos(theta_d) (F depends on theta_g through sin theta_g, on
    # theta_d through sin theta_d), so the lines theta = +-pi/2 are invariant and
    # cut the torus into four rectangles, one Nash attractor in each: theta_g -> 0
    # when |theta_g| < pi/2, else -> pi; the same for theta_d.
    basins = gan_basins
    assert basins.size == 4 and all(a.nash for a in basins.attractors)
    g, d = np.meshgrid(basins.axis, basins.axis)
    expected = np.stack(
        [np.where(np.abs(x) < math.pi / 2, 0.0, -math.pi) for x in (g, d)], -1
    )
    reached = np.array([a.theta for a in basins.attractors])[basins.labels]
    np.testing.assert_allclose(reached, expected, atol=1e-9)
    assert basins.fractions.sum() + basins.unsettled_fraction == pytest.approx(1.0)
    assert np.all(basins.fractions > 0) and basins.unsettled_fraction == 0.0
    assert np.all(basins.winding == 0)  # no trajectory leaves its rectangle
    assert np.all(np.isfinite(basins.times)) and np.all(basins.times < basins.t1)


def test_time_to_epsilon_closed_form():
    # F = cos d - cos g: g' = -sin g, d' = -sin d, so tan(x/2) = tan(x0/2) e^{-t}
    # and max(|g|, |d|) <= eps from t = log(tan(x0/2) / tan(eps/2)), x0 the larger
    # start. Log-distance is linear in t to O(eps^2) near eps, so the interpolation
    # between samples (spacing 20/256) is exact to ~1e-6.
    F = jf.UserObjective(lambda g, d: -jnp.cos(g[0]) + jnp.cos(d[0]))
    basins = basin_map(F, grid=6, t1=20.0, epsilon=1e-3, rtol=1e-10, atol=1e-12)
    g, d = np.meshgrid(basins.axis, basins.axis)
    larger = np.maximum(np.abs(g), np.abs(d))
    expected = np.log(np.tan(larger / 2) / np.tan(1e-3 / 2))
    np.testing.assert_allclose(basins.times, expected, rtol=1e-4)
    assert basins.fractions.tolist() == [1.0]


def test_winding_of_drifting_trajectories():
    # F = sin(g + d): s = g + d is conserved and g' = -cos s, d' = +cos s, so in
    # time t1 each angle turns (-+cos s) t1 / (2 pi) times, none settles.
    F = jf.UserObjective(lambda g, d: jnp.sin(g[0] + d[0]))
    none = jf.Equilibria(points=[], starts=0, converged=0)
    basins = basin_map(F, grid=5, t1=40.0, equilibria=none, rtol=1e-10, atol=1e-12)
    g, d = np.meshgrid(basins.axis, basins.axis)
    turns = -np.cos(g + d) * 40.0 / (2 * math.pi)
    assert np.all(np.abs(turns - np.round(turns)) > 1e-3)  # no start on a boundary
    np.testing.assert_array_equal(basins.winding[..., 0], np.fix(turns))
    np.testing.assert_array_equal(basins.winding[..., 1], np.fix(-turns))
    assert np.all(basins.labels == UNSETTLED) and basins.unsettled_fraction == 1.0
    assert set(basins.reasons()) == {
        "still moving at t1, not within epsilon of an attractor: raise t1"
    }


def test_chunk_store_rejects_partial_foreign_and_tampered(tmp_path):
    arrays = {"labels": np.arange(10, dtype=np.int16), "times": np.linspace(0, 1, 10)}
    store = ChunkStore(tmp_path, "settings-a")
    store.save(0, arrays)
    whole = store.path(0).read_bytes()
    assert store.load(0)["labels"].tolist() == list(range(10))
    assert ChunkStore(tmp_path, "settings-b").load(0) is None  # foreign
    store.path(0).write_bytes(whole[: len(whole) // 2])  # partly written
    assert store.load(0) is None
    store.save(1, arrays)
    tampered = store.path(1).read_bytes()
    index = tampered.index(np.asarray(arrays["times"]).tobytes()[8:16])
    flipped = tampered[:index] + bytes([tampered[index] ^ 1]) + tampered[index + 1 :]
    store.path(1).write_bytes(flipped)
    assert store.load(1) is None  # checksum mismatch
    assert store.load(2) is None  # missing


def test_fingerprint_follows_the_model():
    settings = {"grid": 8}
    assert fingerprint(GAN, settings) == fingerprint(jf.exponential_gan(), settings)
    assert fingerprint(GAN, settings) != fingerprint(
        jf.exponential_gan(gen_scale=2.5), settings
    )
    assert fingerprint(GAN, settings) != fingerprint(GAN, {"grid": 9})


def test_store_chunks_are_used_and_foreign_ones_redone(tmp_path, gan_basins):
    store = ChunkStore(tmp_path, "run")
    first = basin_map(GAN, grid=16, chunk_size=64, store=store)
    foreign = ChunkStore(tmp_path / "other", "other run")
    foreign.save(2, {name: np.zeros(64) for name in ("labels", "times")})
    store.path(2).write_bytes(foreign.path(2).read_bytes())
    again = basin_map(GAN, grid=16, chunk_size=64, store=store)
    for name in ("labels", "status", "times", "winding"):
        np.testing.assert_array_equal(getattr(first, name), getattr(gan_basins, name))
        np.testing.assert_array_equal(getattr(again, name), getattr(first, name))


def test_basins_cli_json_contract(capsys, tmp_path):
    out = tmp_path / "b"
    status = main(["basins", "--grid", "8", "--out", str(out), "--json"])
    record = json.loads(capsys.readouterr().out)
    assert status == 0
    assert sorted(p.name for p in out.iterdir()) == ["basins.npz", "basins.png"]
    assert {"attractors", "unsettled_fraction"} <= set(record)
    shares = [a["fraction"] for a in record["attractors"]]
    assert sum(shares) + record["unsettled_fraction"] == pytest.approx(1.0)
    assert len(shares) == 4 and min(shares) > 0
    assert all(set(a) >= {"theta", "kind", "fraction"} for a in record["attractors"])
    with np.load(out / "basins.npz") as arrays:
        assert arrays["labels"].shape == (8, 8)
        assert arrays["winding"].shape == (8, 8, 2)
        assert arrays["times"].shape == (8, 8) and arrays["axis"].shape == (8,)


@pytest.mark.parametrize(
    "argv, expect",
    [
        (["--grid", "0"], "--grid"),
        (["--t1", "-1"], "--t1"),
        (["--t1", "inf"], "--t1"),
        (["--epsilon", "abc"], "--epsilon"),
        (["--order", "70"], "order 70 needs a Fourier grid"),
        (["--objective", "nowhere.py:F"], "nowhere.py: no such file"),
        (["--objective", "F"], "expected path/to/file.py:NAME"),
    ],
)
def test_basins_bad_options(capsys, tmp_path, argv, expect):
    out = tmp_path / "never"
    assert _status(["basins", "--out", str(out), *argv]) == 2
    out_text, err = capsys.readouterr()
    assert out_text == "" and err.count("\n") == 1 and expect in err
    assert not out.exists()


def _status(argv) -> int:
    """main's exit status, also when argparse exits."""
    try:
        return main(argv)
    except SystemExit as stop:
        return stop.code


def test_killed_run_resumes_to_the_same_map(tmp_path, monkeypatch, capsys):
    # A real run, killed with SIGKILL once some chunks are on disk; a partly
    # written chunk and a foreign one are then planted; --resume must redo those
    # two and the missing ones only, and give the uninterrupted map to the label.
    settings = ["--grid", "24", "--chunk-size", "16"]
    total = 24 * 24 // 16
    killed = tmp_path / "killed"
    chunks = killed / ".basins-chunks"
    command = [sys.executable, "-m", "jaxfgan", "basins", *settings]
    process = subprocess.Popen(
        [*command, "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while _count(chunks) < 3 and process.poll() is None:
        assert time.monotonic() < deadline, "the run wrote no chunks"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    kept = sorted(chunks.glob("chunk-*.npz"))
    assert 3 <= len(kept) < total and not (killed / "basins.npz").exists()
    kept[0].write_bytes(kept[0].read_bytes()[:100])  # partly written
    foreign = ChunkStore(tmp_path / "foreign", "other settings")
    foreign.save(total - 1, {"labels": np.zeros(16, np.int16)})
    foreign.path(total - 1).replace(chunks / f"chunk-{total - 1:06d}.npz")

    saved = []
    original = ChunkStore.save
    monkeypatch.setattr(
        ChunkStore, "save", lambda self, i, a: (saved.append(i), original(self, i, a))
    )
    assert main(["basins", *settings, "--out", str(killed), "--resume"]) == 0
    redone = {0, total - 1} | set(range(total)) - {int(p.stem[6:]) for p in kept}
    assert sorted(saved) == sorted(redone)
    whole = tmp_path / "whole"
    assert main(["basins", *settings, "--out", str(whole)]) == 0
    capsys.readouterr()
    with np.load(killed / "basins.npz") as a, np.load(whole / "basins.npz") as b:
        for name in ("labels", "status", "times", "winding", "axis"):
            np.testing.assert_array_equal(a[name], b[name])
    assert not chunks.exists()  # the chunks go once the map is written


def _count(folder) -> int:
    return len(list(folder.glob("chunk-*.npz"))) if folder.exists() else 0
