"""Run by test_flow_scale.py in fresh processes: XLA_FLAGS must be set before JAX
starts, and jax.distributed.initialize before any computation.

python _multidevice.py shard OUT.npz                     (4 host devices)
python _multidevice.py process ID PORT OUT.npz           (one of two processes)

Each writes, for one problem, the sharded (or distributed) solution next to the
single-device one computed in the same process, and the counts the test checks: the
devices and processes seen, traces of the flow, and the chunks the sharded solve
received (rows, devices its result lies on).
"""

import sys

import numpy as np

FIELDS = ("ys", "final", "status", "num_steps", "num_rejected")


def problem():
    import jaxfgan as jf

    class Counting(jf.FourierSeries):
        """Counts traces of its flow: the solve must read the field through it."""

        traces = 0

        def flow(self, z):
            Counting.traces += 1  # runs only while tracing
            return super().flow(z)

    series = jf.fourier_series(jf.exponential_gan(), order=4, grid=16)
    series = Counting(n_g=1, n_d=1, coeffs=series.coeffs, order=series.order)
    # 50 starts in chunks of 24 (the last one padded): 6 rows per device of 4
    starts = np.random.default_rng(3).uniform(-3.0, 3.0, size=(50, 2))
    return series, starts, np.linspace(0.0, 8.0, 3)


def spy_on_chunks(chunks):
    """Record (rows, devices of the result) for each chunk of the sharded solve."""
    from jaxfgan import _flow

    solve = _flow._solve_sharded

    def spied(objective, y0, *args, **kwargs):
        columns = solve(objective, y0, *args, **kwargs)
        chunks.append((y0.shape[0], len(columns[1].sharding.device_set)))
        return columns

    _flow._solve_sharded = spied


def main(argv):
    import jax

    if argv[0] == "process":
        process_id, port, out = int(argv[1]), argv[2], argv[3]
        jax.distributed.initialize(
            f"127.0.0.1:{port}",
            num_processes=2,
            process_id=process_id,
            coordinator_bind_address=f"127.0.0.1:{port}",
            initialization_timeout=120,
        )
    else:
        out = argv[1]
    import jaxfgan as jf

    series, starts, ts = problem()
    options = {"ts": ts, "batch_size": 24, "shard": True, "distributed": True}
    chunks = []
    spy_on_chunks(chunks)
    sharded = jf.integrate_flow(series, starts, 8.0, **options)
    traces, first_chunks = type(series).traces, np.array(chunks)
    # other numbers, same shapes: the sharded solve must not be traced again
    other = {"ts": ts + 1.0, "t0": 0.5, "rtol": 1e-7, "atol": 1e-9}
    jf.integrate_flow(series, starts - 0.5, 9.0, **options | other)
    retraced = type(series).traces - traces
    single = jf.integrate_flow(series, starts, 8.0, ts=ts)
    arrays = {f"sharded_{name}": getattr(sharded, name) for name in FIELDS}
    arrays |= {f"single_{name}": getattr(single, name) for name in FIELDS}
    counts = [jax.local_device_count(), jax.process_count(), traces, retraced]
    np.savez(out, counts=np.array(counts), chunks=first_chunks, **arrays)


if __name__ == "__main__":
    main(sys.argv[1:])
