"""Settings for the whole suite (tests and the doctests in jaxfgan/): float64 and
strict rank promotion."""

import jax
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


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    import jax.numpy as jnp
    import numpy as np

    doctest_namespace.update(jnp=jnp, np=np)
