"""integrate_flow at scale: float32 against float64 and scipy, chunked and sharded
against one batch, several devices and two processes against one, no retracing."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import jaxfgan as jf

SERIES = jf.fourier_series(jf.exponential_gan(), order=4, grid=16)
STARTS = np.random.default_rng(5).uniform(-3.0, 3.0, size=(12, 2))
HELPER = Path(__file__).with_name("_multidevice.py")


def _reference_finals(objective, starts, t1):
    field = jax.jit(lambda z: jf.vector_field(objective, z))

    def rhs(t, z):
        return np.asarray(field(jnp.asarray(z)))

    return np.array(
        [
            integrate.solve_ivp(
                rhs, (0.0, t1), start, method="DOP853", rtol=1e-12, atol=1e-13
            ).y[:, -1]
            for start in starts
        ]
    )


def test_float32_and_float64_match_solve_ivp():
    reference = _reference_finals(SERIES, STARTS, 10.0)
    wide = jf.integrate_flow(SERIES, STARTS, 10.0, rtol=1e-10, atol=1e-12)
    # rtol 1e-10 per step, over ~200 steps of a field whose errors grow at most
    # e^(0.4 t): measured 2e-9
    np.testing.assert_allclose(wide.final, reference, atol=1e-8)
    narrow = jf.integrate_flow(
        SERIES, STARTS, 10.0, ts=[5.0], rtol=1e-5, atol=1e-7, dtype=jnp.float32
    )
    assert narrow.final.dtype == narrow.ys.dtype == narrow.ts.dtype == jnp.float32
    assert bool(jnp.all(narrow.succeeded))
    # at rtol 1e-5 the method's own global error dominates (float64 at the same
    # settings: 1.6e-4, about 16 rtol); float32's 6e-8 round-off per step adds
    # little (measured 2.0e-4). 50 rtol leaves a margin.
    np.testing.assert_allclose(narrow.final, reference, atol=50 * 1e-5)


def test_float32_warns_when_rtol_is_below_its_resolution():
    with pytest.warns(UserWarning, match="float32"):
        jf.integrate_flow(SERIES, STARTS[:2], 1.0, rtol=1e-7, dtype=jnp.float32)


@pytest.mark.parametrize("dtype", ["float16", jnp.int32, "nonsense", object()])
def test_other_dtypes_raise(dtype):
    with pytest.raises(jf.InputError, match="dtype"):
        jf.integrate_flow(SERIES, STARTS, 1.0, dtype=dtype)


def test_sharded_chunks_equal_one_batch(same_solution):
    # one CPU device here: a mesh of one, chunks of 5 with the last one padded
    ts = np.array([2.0, 6.0])
    whole = jf.integrate_flow(SERIES, STARTS, 6.0, ts=ts)
    sharded = jf.integrate_flow(SERIES, STARTS, 6.0, ts=ts, batch_size=5, shard=True)
    same_solution(sharded, whole)
    assert sharded.ys.shape == (12, 2, 2)


class _CountingSeries(jf.FourierSeries):
    def flow(self, z):
        _CountingSeries.traces += 1  # runs only while tracing
        return super().flow(z)


@pytest.mark.parametrize("shard", [False, True])
def test_float32_other_numbers_do_not_retrace(shard):
    _CountingSeries.traces = 0
    series = _CountingSeries(n_g=1, n_d=1, coeffs=SERIES.coeffs, order=4)
    options = {"batch_size": 8, "shard": shard, "dtype": jnp.float32}
    jf.integrate_flow(series, STARTS, 4.0, ts=[1.0], rtol=1e-4, **options)
    traced = _CountingSeries.traces
    assert traced > 0
    other = eqx.tree_at(lambda s: s.coeffs, series, 0.5 * SERIES.coeffs)
    jf.integrate_flow(
        other, STARTS + 0.3, 7.0, t0=1.0, ts=[2.5], rtol=1e-5, atol=1e-6, **options
    )
    assert _CountingSeries.traces == traced


def _run_helper(*arguments, devices):
    flags = f"--xla_force_host_platform_device_count={devices}"
    return subprocess.Popen(
        [sys.executable, str(HELPER), *arguments],
        env=dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(*runs, timeout=300):
    """Wait for the helpers; on a timeout kill them all (a process left alone
    waits for its partner), then show each one's output if it failed."""
    try:
        outputs = [run.communicate(timeout=timeout)[0] for run in runs]
    except subprocess.TimeoutExpired:
        for run in runs:
            run.kill()
        outputs = [run.communicate()[0] for run in runs]
        pytest.fail(
            f"{HELPER.name} timed out after {timeout} s:\n" + "\n".join(outputs)
        )
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output


def _assert_same_as_single(results, same_solution):
    # the same per-trajectory arithmetic whichever device or process a row is on
    sharded, single = (
        {
            key.removeprefix(label): results[key]
            for key in results.files
            if key.startswith(label)
        }
        for label in ("sharded_", "single_")
    )
    same_solution(sharded, single)
    assert single["final"].shape == (50, 2)


def test_sharded_over_four_devices_equals_one(tmp_path, same_solution):
    out = tmp_path / "shard.npz"
    _finish(_run_helper("shard", str(out), devices=4))
    results = np.load(out)
    devices, processes, traces, retraced = results["counts"].tolist()
    assert (devices, processes) == (4, 1)
    assert traces > 0 and retraced == 0  # the flow is read, and compiled once
    # 50 starts in at most 24 a chunk: 3 chunks of 17 rounded up to a multiple of
    # 24 / 8, 18, and padded to 20 to split over the 4 devices
    assert results["chunks"].tolist() == [[20, 4]] * 3
    _assert_same_as_single(results, same_solution)


def test_two_processes_equal_one(tmp_path, same_solution):
    # the coordinator listens on 127.0.0.1, but JAX's CPU collectives (gloo) bind
    # the address the host name resolves to; run only where that is loopback
    try:
        address = socket.gethostbyname(socket.gethostname())
    except OSError as error:
        pytest.skip(f"the host name does not resolve, so gloo cannot bind: {error}")
    if not address.startswith("127."):
        pytest.skip(f"the host name resolves to {address}, not to loopback")
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = str(probe.getsockname()[1])
    except OSError as error:
        pytest.skip(f"cannot bind a port on 127.0.0.1: {error}")
    outs = [tmp_path / f"process{i}.npz" for i in range(2)]
    runs = [
        _run_helper("process", str(i), port, str(out), devices=2)
        for i, out in enumerate(outs)
    ]
    _finish(*runs)
    for out in outs:
        results = np.load(out)
        devices, processes, traces, retraced = results["counts"].tolist()
        assert (devices, processes) == (2, 2)
        assert traces > 0 and retraced == 0
        # each process integrates its 25 starts only: 2 chunks of 13 rounded up
        # to a multiple of 3, 15, and padded to 16 to split over its 2 devices
        assert results["chunks"].tolist() == [[16, 2]] * 2
        _assert_same_as_single(results, same_solution)


def test_chunks_are_balanced():
    from jaxfgan._flow import _chunk_size

    assert _chunk_size(10_000, 8192) == 5120
    assert _chunk_size(65_536, 8192) == 8192
    assert _chunk_size(3, 8192) == 3
    for limit in (1, 7, 64, 256):
        shapes = set()
        for count in range(1, 2000):
            size = _chunk_size(count, limit)
            chunks = -(-count // size)
            assert size <= limit and chunks == -(-count // limit)
            if chunks > 1:
                assert chunks * size - count < chunks * -(-limit // 8)
                shapes.add(size)
        assert len(shapes) <= 8  # a few compiled shapes for any batch


def test_times_beyond_float32_and_foreign_byte_order_raise():
    with pytest.raises(jf.InputError, match="float32"):
        jf.integrate_flow(SERIES, STARTS, 1e39, rtol=1e-5, dtype=jnp.float32)
    with pytest.raises(jf.InputError, match="dtype"):
        jf.integrate_flow(SERIES, STARTS, 1.0, dtype=np.dtype(">f8"))


def test_a_flow_that_overflows_is_reported_as_not_finite():
    # in float32 the generator's rate exp(100 sin g) underflows to 0 near
    # g = -pi/2 (exp(-99.7) < 1e-38 is below float32's smallest normal number), so
    # its samples z / rate and the flow are infinite: the start cannot move
    assert np.float32(np.exp(-99.7)) < np.finfo(np.float32).tiny
    gan = jf.exponential_gan(gen_scale=100.0)
    starts = np.array([[-1.5, 0.4], [1.5, 0.4]])
    solution = jf.integrate_flow(gan, starts, 1.0, rtol=1e-5, dtype=jnp.float32)
    assert solution.status.tolist() == [3, 0]
    assert "not finite" in solution.messages()[0]
