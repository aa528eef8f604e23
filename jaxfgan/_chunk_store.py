"""Chunks of a long computation on disk, each written atomically and checked on read.

A long batch (a basin map of a million starts) is cut into numbered chunks. Each
chunk is saved as one ``.npz`` file under a temporary name and then renamed, so a
file with a chunk's final name was always written in full. Every file carries the
fingerprint of the settings that produced it and a SHA-256 checksum of its arrays;
a chunk whose file is unreadable, truncated, from other settings (foreign) or whose
arrays do not match their checksum is reported as missing and computed again,
never trusted.
"""

import dataclasses
import hashlib
import inspect
import io
import json
import marshal
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import equinox as eqx
import numpy as np

from ._objective import Objective

FORMAT = "jaxfgan-chunk-1"
"""Written into every chunk; a change of layout changes it, so old chunks are redone."""


class ChunkStore:
    """A folder of chunk files that belong to one fingerprint.

    Arguments:
        folder: where the chunks live (created on the first save).
        fingerprint: a string that names the settings; see :func:`fingerprint`.

    Example: a chunk saved is read back; one from other settings is not.
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> ChunkStore(folder, "a").save(0, {"x": np.arange(3)})
        >>> ChunkStore(folder, "a").load(0)["x"].tolist()
        [0, 1, 2]
        >>> ChunkStore(folder, "b").load(0) is None
        True
    """

    def __init__(self, folder: str | os.PathLike, fingerprint: str):
        self.folder = Path(folder)
        self.fingerprint = fingerprint

    def path(self, index: int) -> Path:
        return self.folder / f"chunk-{index:06d}.npz"

    def load(self, index: int) -> dict[str, np.ndarray] | None:
        """The arrays of chunk ``index``, or None when it must be computed (again)."""
        try:
            with np.load(self.path(index), allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError):
            return None  # missing, truncated or not an npz: redo
        header = arrays.pop("__header__", None)
        if header is None or header.shape != ():
            return None
        expected = _header(self.fingerprint, index, _checksum(arrays))
        return arrays if str(header) == expected else None

    def save(self, index: int, arrays: dict[str, np.ndarray]) -> None:
        """Write chunk ``index`` under a temporary name, flush it, then rename it."""
        arrays = {name: np.asarray(value) for name, value in arrays.items()}
        header = _header(self.fingerprint, index, _checksum(arrays))
        buffer = io.BytesIO()
        np.savez(buffer, __header__=np.array(header), **arrays)
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=self.folder, prefix=f".chunk-{index:06d}.", suffix=".tmp"
        )
        with os.fdopen(handle, "wb") as stream:
            stream.write(buffer.getvalue())
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, self.path(index))

    def clear(self) -> None:
        """Remove the folder and every chunk in it."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _header(fingerprint: str, index: int, checksum: str) -> str:
    return json.dumps(
        {
            "format": FORMAT,
            "fingerprint": fingerprint,
            "index": index,
            "checksum": checksum,
        },
        sort_keys=True,
    )


def _checksum(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}:{array.dtype.str}:{array.shape};".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def fingerprint(objective: Objective, settings: dict) -> str:
    """A SHA-256 digest of an objective and the settings of a run.

    The objective contributes its class, its array fields (values, dtypes, shapes)
    and its other fields; a function field (a user's objective) contributes its
    compiled code and the source file it came from, so editing the file changes
    the fingerprint. ``settings`` must be JSON-serialisable.

    Notes:
        A user function that reads global state other than its own module's source
        (another module, a file) is fingerprinted by its code only.
    """
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    digest.update(type(objective).__qualname__.encode())
    arrays, others = eqx.partition(objective, eqx.is_array)
    for leaf in _array_leaves(arrays):
        digest.update(f"{leaf.dtype.str}:{leaf.shape};".encode())
        digest.update(np.ascontiguousarray(leaf).tobytes())
    for field in dataclasses.fields(others):
        digest.update(_field_bytes(field.name, getattr(others, field.name)))
    return digest.hexdigest()


def _array_leaves(tree) -> list[np.ndarray]:
    import jax

    return [np.asarray(leaf) for leaf in jax.tree.leaves(tree)]


def _field_bytes(name: str, value) -> bytes:
    if value is None:
        return f"{name}=None;".encode()
    if callable(value) and hasattr(value, "__code__"):
        code = marshal.dumps(value.__code__)
        try:
            source = Path(inspect.getsourcefile(value)).read_bytes()
        except (TypeError, OSError):
            source = b""
        return name.encode() + b"=" + code + hashlib.sha256(source).digest()
    return f"{name}={value!r};".encode()
