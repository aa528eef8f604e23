"""Reading waiting times from CSV files, and the data sets shipped with jaxfgan."""

import csv
import math
import re
from importlib import resources
from pathlib import Path

import numpy as np

from ._errors import InputError

_DECIMAL = re.compile(
    r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?(nan|inf|infinity)", re.I | re.ASCII
)
"""A plain decimal number (NaN and infinity too, to be refused by name)."""

DATASETS = {
    "aircondit": "aircondit_hours.csv",
    "coal": "coal_disaster_intervals_days.csv",
}
"""Shipped data sets: name -> file in ``jaxfgan/data`` (provenance in its README.md)."""


def dataset_path(name: str) -> Path:
    """The path of a shipped data set, ``"aircondit"`` or ``"coal"``.

    Example:
        >>> dataset_path("aircondit").name
        'aircondit_hours.csv'
    """
    if name not in DATASETS:
        raise InputError(
            f"dataset_path: unknown data set {name!r}; choose one of {sorted(DATASETS)}"
        )
    return Path(str(resources.files("jaxfgan") / "data" / DATASETS[name]))


def resolve_data_path(spec: str) -> Path:
    """The file at ``spec``, or the shipped data set of that name if no such file."""
    path = Path(spec)
    if not path.is_file() and spec in DATASETS:
        return dataset_path(spec)
    return path


def read_waiting_times(path: str | Path, column: str | None = None) -> np.ndarray:
    """Read non-negative waiting times from one column of a CSV file with a header.

    Arguments:
        path: the CSV file; its first row names the columns.
        column: the column to read; the first column when None.

    Returns:
        A float64 array of the values, in file order. Zero is a valid waiting time.

    Raises:
        InputError: naming the file (and line) for a missing or unreadable file, an
            unknown or empty column, a value that is not a finite number, or a negative
            value.

    Example:
        >>> read_waiting_times(dataset_path("aircondit")).mean().round(4)
        np.float64(108.0833)
    """
    path = Path(path)
    rows = _read_rows(path)
    header, body = rows[0], rows[1:]
    index = _column_index(path, header, column)
    name = header[index]
    values = [_parse_value(path, line, row, index, name) for line, row in body]
    if not values:
        raise InputError(f"{path}: column {name!r} has no values")
    return np.asarray(values, dtype=np.float64)


def _read_rows(path: Path) -> list:
    if path.exists() and not path.is_dir() and not path.is_file():
        raise InputError(f"{path}: not a regular file (a pipe or device?)")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            numbered = [
                (number, row)
                for number, row in enumerate(csv.reader(handle), start=1)
                if any(cell.strip() for cell in row)
            ]
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a CSV file") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"{path}: cannot read: {error}") from None
    if not numbered:
        raise InputError(f"{path}: the file is empty; expected a header and values")
    header = [cell.strip() for cell in numbered[0][1]]
    return [header, *numbered[1:]]


def _column_index(path: Path, header: list, column: str | None) -> int:
    if column is None:
        return 0
    if column not in header:
        raise InputError(
            f"{path}: no column {column!r}; the header has {', '.join(header)}"
        )
    return header.index(column)


def _parse_value(path: Path, line: int, row: list, index: int, name: str) -> float:
    if index >= len(row) or not row[index].strip():
        raise InputError(f"{path}, line {line}: column {name!r} is empty")
    text = row[index].strip()
    if not _DECIMAL.fullmatch(text):  # float() would also take '1_000' or '١٢'
        raise InputError(f"{path}, line {line}: {text!r} is not a number")
    number = float(text)
    if not math.isfinite(number):
        raise InputError(f"{path}, line {line}: {text!r} is not a finite number")
    if number < 0:
        raise InputError(
            f"{path}, line {line}: {text} is negative; waiting times must be >= 0"
        )
    return number
