"""The command line: its JSON contracts, real data, and every bad input."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import jaxfgan as jf

USER_OBJECTIVE = """
import jax.numpy as jnp

def F(theta_g, theta_d):
    return jnp.cos(theta_g[0]) * jnp.sin(theta_d[0])

def vector_valued(theta_g, theta_d):
    return jnp.stack([theta_g[0], theta_d[0]])

def not_jax(theta_g, theta_d):
    import math
    return math.sin(theta_g[0])

def python_if(theta_g, theta_d):
    if theta_g[0] > 0:
        return jnp.sin(theta_d[0])
    return jnp.cos(theta_d[0])

def log_cos(theta_g, theta_d):
    return jnp.log(jnp.cos(theta_g[0])) + jnp.sin(theta_d[0])
"""


@pytest.fixture
def user_file(tmp_path):
    path = tmp_path / "game.py"
    path.write_text(USER_OBJECTIVE)
    return path


def test_equilibria_json_contract(cli):
    status, out, _ = cli.run("equilibria", "--json")
    assert status == 0
    record = json.loads(out)
    assert set(record) >= {"order", "equilibria", "index_sum", "learned_rate"}
    assert record["order"] is None and record["index_sum"] == 0
    assert record["learned_rate"] == pytest.approx(1.0, rel=1e-10)
    for point in record["equilibria"]:
        assert set(point) == {"theta", "eigenvalues", "kind", "nash", "index"}
        assert all(-np.pi <= x < np.pi for x in point["theta"])
    nash = [p for p in record["equilibria"] if p["nash"]]
    assert len(nash) == 4
    np.testing.assert_allclose(
        nash[0]["eigenvalues"],
        [[-0.25, -np.sqrt(15) / 4], [-0.25, np.sqrt(15) / 4]],
        atol=1e-10,
    )


@pytest.mark.parametrize("name", ["aircondit", "coal"])
def test_equilibria_on_real_data_learns_mle_rate(cli, name):
    path = jf.dataset_path(name)
    samples = np.loadtxt(path, delimiter=",", skiprows=1)
    status, out, _ = cli.run("equilibria", "--data", str(path), "--json")
    assert status == 0
    assert json.loads(out)["learned_rate"] == pytest.approx(
        1 / samples.mean(), rel=1e-10
    )


def test_series_equilibria_order_one(cli):
    status, out, _ = cli.run("equilibria", "--order", "1", "--json")
    record = json.loads(out)
    assert status == 0 and record["order"] == 1
    assert sum(p["kind"] == "center" for p in record["equilibria"]) == 4


def test_fourier_json_closed_form(cli, user_file):
    # cos g sin d = (e^{ig} + e^{-ig})(e^{id} - e^{-id}) / (4i): c_(+-1, +1) = -i/4,
    # c_(+-1, -1) = +i/4, every other coefficient 0.
    status, out, _ = cli.run(
        "fourier",
        "--objective",
        f"{user_file}:F",
        "--order",
        "1",
        "--grid",
        "8",
        "--json",
    )
    assert status == 0
    record = json.loads(out)
    assert len(record["modes"]) == 9 and record["sup_error"] < 1e-14
    for mode, (re, im) in zip(record["modes"], record["coefficients"], strict=True):
        expected = {1: -0.25, -1: 0.25}.get(mode[1], 0.0) if mode[0] != 0 else 0.0
        assert re == pytest.approx(0.0, abs=1e-15)
        assert im == pytest.approx(expected, abs=1e-15)


def test_portrait_writes_figure_and_summary(cli, tmp_path, user_file):
    out_dir = tmp_path / "result"
    status, out, _ = cli.run(
        "portrait",
        "--objective",
        f"{user_file}:F",
        "--orders",
        "1",
        "--fourier-grid",
        "16",
        "--starts",
        "8",
        "--out",
        str(out_dir),
    )
    assert status == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["portrait.png", "summary.json"]
    summary = json.loads((out_dir / "summary.json").read_text())
    assert [p["order"] for p in summary["panels"]] == [None, 1]
    assert all(p["index_sum"] == 0 for p in summary["panels"])
    assert summary["versions"]["jax"] and summary["settings"]["orders"] == [1]
    # cos g sin d: 4 centres (index 1) and 4 saddles at (0, +-pi/2), (pi, +-pi/2)
    kinds = sorted(p["kind"] for p in summary["panels"][0]["equilibria"])
    assert kinds == ["center"] * 4 + ["saddle"] * 4
    assert (out_dir / "portrait.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Poincare-Hopf holds" in out
    umask = os.umask(0)
    os.umask(umask)
    for path in out_dir.iterdir():  # readable as any file the user makes
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask


BAD_DATA = {
    "nonnumeric.csv": ("hours\n3\nabc\n", "line 3: 'abc' is not a number"),
    "nan.csv": ("hours\n3\nnan\n", "line 3: 'nan' is not a finite number"),
    "inf.csv": ("hours\n3\ninf\n", "line 3: 'inf' is not a finite number"),
    "negative.csv": ("hours\n3\n-2\n", "line 3: -2 is negative"),
    "empty_column.csv": ("hours\n", "column 'hours' has no values"),
    "empty_cell.csv": ("hours,days\n3,4\n,5\n", "line 3: column 'hours' is empty"),
    "empty.csv": ("", "the file is empty"),
    "underscore.csv": ("hours\n1_000\n", "line 2: '1_000' is not a number"),
    "arabic_digits.csv": ("hours\n\u0661\u0662\n", "is not a number"),
}


@pytest.mark.parametrize("name", sorted(BAD_DATA))
def test_bad_data_files(cli, tmp_path, name):
    content, expect = BAD_DATA[name]
    path = tmp_path / name
    path.write_text(content)
    out_dir = tmp_path / "out"
    err = cli.fails(
        "portrait", "--data", str(path), "--out", str(out_dir), expect=expect
    )
    assert str(path) in err
    assert not out_dir.exists()


@pytest.mark.parametrize(
    "argv, expect",
    [
        (["--data", "/nonexistent/x.csv"], "/nonexistent/x.csv: no such file"),
        (["--data", "."], "is a directory"),
        (["--data", "aircondit", "--column", "minutes"], "no column 'minutes'"),
        (["--rate", "0"], "--rate must be > 0"),
        (["--rate", "-1"], "--rate must be > 0"),
        (["--unit", "0"], "--unit must be > 0"),
        (["--gen-scale", "-1"], "--gen-scale must be > 0"),
        (["--order", "70"], "order 70 needs a Fourier grid of at least 141"),
        (["--order", "0"], "order 0 keeps only the constant"),
        (["--objective", "nowhere.py:F"], "nowhere.py: no such file"),
        (["--objective", "no_such_module_xyz:F"], "cannot load no_such_module_xyz"),
        (["--objective", "F"], "expected path/to/file.py:NAME"),
        (["--column", "hours"], "--column needs --data"),
        (["--rate", "2", "--data", "aircondit"], "give one"),
        (["--dims", "0,1", "--objective", "x.py:F"], "--dims"),
        (["--gen-scale", "710"], "--gen-scale must be <= 700"),
        (["--rate", "1e308"], "has no usable rate"),
        (["--order", "3", "--fourier-grid", "5"], "raise --fourier-grid"),
    ],
)
def test_bad_options(cli, argv, expect):
    cli.fails("equilibria", *argv, expect=expect)


def test_zero_waiting_time_is_valid(cli, tmp_path):
    path = tmp_path / "zeros.csv"
    path.write_text("days\n0\n1.5\n2\n0.0\n4\n")
    status, out, _ = cli.run("equilibria", "--data", str(path), "--json")
    assert status == 0
    assert json.loads(out)["learned_rate"] == pytest.approx(
        1 / np.mean([0, 1.5, 2, 0, 4])
    )


@pytest.mark.parametrize(
    "name, expect",
    [
        ("vector_valued", "must return a scalar"),
        ("not_jax", "failed on angles"),
        ("missing", "has no attribute 'missing'"),
        ("python_if", "TracerBoolConversionError"),
        ("log_cos", "F is not finite at"),
    ],
)
def test_bad_user_objectives(cli, user_file, name, expect):
    cli.fails(
        "fourier",
        "--order",
        "1",
        "--objective",
        f"{user_file}:{name}",
        expect=expect,
    )


def test_syntax_error_in_objective_file(cli, tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def F(:\n")
    cli.fails(
        "fourier",
        "--order",
        "1",
        "--objective",
        f"{path}:F",
        expect="SyntaxError",
    )


def test_out_is_a_file(cli, tmp_path):
    target = tmp_path / "taken"
    target.write_text("keep me")
    cli.fails("portrait", "--out", str(target), expect="is not a folder")
    assert target.read_text() == "keep me"


def test_argparse_errors_are_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "jaxfgan", "equilibria", "--order", "-3"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--order" in result.stderr


def test_no_nash_is_said_plainly(cli):
    status, out, err = cli.run("equilibria", "--data", "aircondit", "--unit", "1")
    assert status == 0
    assert "no Nash equilibrium learns the target" in err and "--unit" in err


def test_shipped_data_name_wins_over_a_folder_of_that_name(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "coal").mkdir()  # e.g. left by `jaxfgan portrait --out coal`
    samples = np.loadtxt(jf.dataset_path("coal"), delimiter=",", skiprows=1)
    status, out, _ = cli.run("equilibria", "--data", "coal", "--json")
    assert status == 0
    assert json.loads(out)["learned_rate"] == pytest.approx(1 / samples.mean())


def test_shipped_data_errors_name_the_data_set(cli):
    err = cli.fails(
        "equilibria",
        "--data",
        "coal",
        "--column",
        "hours",
        expect="coal (shipped data set): no column 'hours'",
    )
    assert "site-packages" not in err


def test_equilibria_table_lists_every_point(cli):
    status, out, _ = cli.run("equilibria")
    rows = [line for line in out.splitlines() if "spiral attractor  " in line]
    assert status == 0 and len(rows) == 4
    assert all("-0.25-0.968246i, -0.25+0.968246i" in row for row in rows)


def test_out_below_a_file_fails_before_running(cli, tmp_path):
    (tmp_path / "afile").write_text("")
    cli.fails(
        "portrait",
        "--out",
        str(tmp_path / "afile" / "sub"),
        expect="is a file, not a folder",
    )


def test_data_from_a_pipe_is_refused(cli, tmp_path):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    cli.fails("equilibria", "--data", str(fifo), expect="not a regular file")


def test_byte_order_mark_is_ignored(cli, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufefftime\n1\n2\n4\n".encode())
    status, out, _ = cli.run(
        "equilibria", "--data", str(path), "--column", "time", "--json"
    )
    assert status == 0
    assert json.loads(out)["learned_rate"] == pytest.approx(3 / 7)


@pytest.mark.parametrize("orders", ["5..2", "", ","])
def test_empty_order_lists_are_refused(orders):
    result = subprocess.run(
        [sys.executable, "-m", "jaxfgan", "portrait", "--orders", orders],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "no orders" in result.stderr
