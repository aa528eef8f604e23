"""Settings for the whole suite (tests and the doctests in jaxfgan/): float64 and
strict rank promotion."""

import jax
import numpy as np
import pytest

collect_ignore = ["jaxfgan/__main__.py"]  # importing it runs the command line

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


class CommandLine:
    """Runs ``jaxfgan`` in this process and reads what it printed."""

    def __init__(self, capsys):
        self.capsys = capsys

    def run(self, *argv):
        """(exit status, stdout, stderr); argparse's own errors count as exits."""
        from jaxfgan._cli import main

        try:
            status = main(list(argv))
        except SystemExit as exit:
            status = exit.code
        out, err = self.capsys.readouterr()
        return status, out, err

    def fails(self, *argv, expect):
        """Exit 2, one line on stderr naming the problem, nothing on stdout."""
        status, out, err = self.run(*argv)
        assert status == 2 and out == ""
        assert err.count("\n") == 1 and "Traceback" not in err
        assert expect in err, err
        return err


@pytest.fixture
def cli(capsys):
    return CommandLine(capsys)


@pytest.fixture
def same_solution():
    """Asserts that two flow solutions (FlowSolutions or dicts of their fields)
    agree: statuses and step counts exactly, states to round-off. Chunks of other
    sizes may reorder a sum inside XLA's batched products, so states can differ by
    about 1e-13, and no more."""

    def check(a, b):
        for name in ("ys", "final", "status", "num_steps", "num_rejected"):
            x, y = (
                s[name] if isinstance(s, dict) else getattr(s, name) for s in (a, b)
            )
            if name in ("ys", "final"):
                np.testing.assert_allclose(x, y, rtol=0, atol=1e-10, err_msg=name)
            else:
                np.testing.assert_array_equal(x, y, err_msg=name)

    return check


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    import jax.numpy as jnp
    import numpy as np

    doctest_namespace.update(jnp=jnp, np=np)
