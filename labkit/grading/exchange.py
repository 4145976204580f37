"""Plain data between a submission's kernel and the grader: NumPy ``.npy`` arrays and JSON, never pickle.

The kernel side (:func:`save_array`, :func:`save_json`, :func:`describe_model`) runs inside the
sandbox, called by a lab's instructor-defined export cells. The grader side (:class:`Exported`) reads
what came out as untrusted input: files must be regular (no links, pipes or devices), small, and of
the exact dtype and shape the check asks for. A student's code can write these files too, but they only
pass the checks when they hold what a correct answer computes.
"""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import numpy as np

MAX_FILE_BYTES = 64 * 2**20
"""The grader refuses larger exported files."""

ERROR_FILE = "error.json"


class ExportError(Exception):
    """An object from the notebook cannot be exported as plain data (the message is for the student)."""


class Mismatch(Exception):
    """Exported data is missing, unreadable or not what the check expects (the message says which)."""


# --- in the kernel ---------------------------------------------------------------------------------

def save_array(folder: Path, name: str, value) -> None:
    """Save ``value`` as ``name.npy`` if it is a real NumPy array of numbers (no objects, no pickle)."""
    if type(value) is not np.ndarray:
        raise ExportError(f"{name} should be a NumPy array; it is a {type(value).__name__}")
    if value.dtype.kind not in "biuf":
        raise ExportError(f"{name} should hold numbers; its dtype is {value.dtype}")
    np.save(Path(folder) / f"{name}.npy", value, allow_pickle=False)


def save_json(folder: Path, name: str, data) -> None:
    """Save ``data`` (dicts, lists, strings, numbers) as ``name.json``."""
    text = json.dumps(data, allow_nan=False, default=_plain)
    (Path(folder) / f"{name}.json").write_text(text, encoding="utf-8")


def _plain(value):
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not plain data")


def describe_model(model) -> dict:
    """A Keras model as plain data: input and output shapes, and each layer's class and settings."""
    layers = []
    for layer in model.layers:
        config = layer.get_config()
        layers.append({"class": type(layer).__name__,
                       **{key: config[key] for key in ("units", "activation", "use_bias") if key in config}})
    return {"class": type(model).__name__,
            "inputs": [list(tensor.shape) for tensor in model.inputs],
            "outputs": [list(tensor.shape) for tensor in model.outputs],
            "layers": layers}


def save_model(folder: Path, name: str, model, probe: np.ndarray) -> None:
    """Save a model's description, its weights (``name_w0.npy``, ...) and its prediction on ``probe``."""
    import keras

    if not isinstance(model, keras.Model):
        raise ExportError(f"{name} should be a keras.Model; it is a {type(model).__name__}")
    description = describe_model(model)
    weights = model.get_weights()
    description["weights"] = len(weights)
    save_json(folder, name, description)
    for index, weight in enumerate(weights):
        save_array(folder, f"{name}_w{index}", weight)
    save_array(folder, f"{name}_prediction", np.asarray(model(probe, training=False)))


OBSERVED = "observed.json"
"""The plain values (not arrays) of one observation, by name."""


def save_observation(folder: Path, observed: dict) -> None:
    """Save an exercise's observation: each NumPy array as ``name.npy``, every other value in ``observed.json``.

    Used by the export cells in the sandbox and by the self-checks, so the rule reads the same files either way.
    """
    values = {}
    for name, value in observed.items():
        if isinstance(value, np.ndarray):
            save_array(folder, name, value)
        else:
            values[name] = value
    save_json(folder, OBSERVED[:-5], values)


def save_error(folder: Path, error: BaseException) -> None:
    """Record why a question's export failed, for the student's feedback."""
    message = str(error) if isinstance(error, ExportError) else f"{type(error).__name__}: {error}"
    (Path(folder) / ERROR_FILE).write_text(json.dumps({"error": message[:500]}), encoding="utf-8")


# --- in the grader ---------------------------------------------------------------------------------

class Exported:
    """The files one question exported, read defensively; every problem raises :class:`Mismatch`."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def error(self) -> str | None:
        """The export's own error message, if the export cell recorded one."""
        try:
            data = json.loads(self._read(ERROR_FILE))
        except Mismatch:
            return None
        except ValueError:
            return "the export failed (its error message is unreadable)"
        return str(data.get("error", data))[:500] if isinstance(data, dict) else str(data)[:500]

    def value(self, name: str, kind: type | tuple[type, ...] | None = None):
        """The plain value ``name`` of the observation (see :func:`save_observation`), of type ``kind`` if given."""
        values = self.json(OBSERVED[:-5])
        if not isinstance(values, dict) or name not in values:
            raise Mismatch(f"{name} was not exported")
        value = values[name]
        if kind is not None and not isinstance(value, kind):
            raise Mismatch(f"{name} should be {_kind_name(kind)}; found {type(value).__name__}")
        return value

    def has(self, name: str) -> bool:
        """Whether the observation holds ``name`` (an array or a plain value)."""
        values = self.json(OBSERVED[:-5]) if self._exists(OBSERVED) else {}
        return self._exists(f"{name}.npy") or isinstance(values, dict) and name in values

    def _exists(self, filename: str) -> bool:
        try:
            self._read(filename)
        except Mismatch:
            return False
        return True

    def json(self, name: str):
        try:
            return json.loads(self._read(f"{name}.json"))
        except (ValueError, RecursionError) as error:
            raise Mismatch(f"{name}.json is not valid JSON ({type(error).__name__})") from None

    def array(self, name: str, *, dtype=None, shape: tuple | None = None) -> np.ndarray:
        """``name.npy`` as an array; ``dtype`` and ``shape`` (``None`` entries match any size) must match exactly."""
        data = self._read(f"{name}.npy")
        try:
            value = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            raise Mismatch(f"{name} is not a NumPy array file ({error})") from None
        if type(value) is not np.ndarray or value.dtype.kind not in "biuf":
            raise Mismatch(f"{name} should be an array of numbers; found dtype {getattr(value, 'dtype', '?')}")
        if dtype is not None and value.dtype != np.dtype(dtype):
            raise Mismatch(f"{name} should have dtype {np.dtype(dtype)}; found {value.dtype}")
        if shape is not None and (len(shape) != value.ndim
                                  or any(want is not None and want != got for want, got in zip(shape, value.shape))):
            wanted = "(" + ", ".join("n" if s is None else str(s) for s in shape) + ")"
            raise Mismatch(f"{name} should have shape {wanted}; found {value.shape}")
        return value

    def _read(self, filename: str) -> bytes:
        """The bytes of a regular file directly in the folder, refusing links, pipes and huge files."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            folder_fd = os.open(self.folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            raise Mismatch(f"nothing was exported ({self.folder.name}/ is missing)") from None
        try:
            try:
                fd = os.open(filename, flags, dir_fd=folder_fd)
            except OSError:
                raise Mismatch(f"{filename} was not exported") from None
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    raise Mismatch(f"{filename} is not a regular file")
                if info.st_size > MAX_FILE_BYTES:
                    raise Mismatch(f"{filename} is larger than {MAX_FILE_BYTES // 2**20} MB")
                with os.fdopen(os.dup(fd), "rb") as file:
                    return file.read(MAX_FILE_BYTES + 1)
            finally:
                os.close(fd)
        finally:
            os.close(folder_fd)


def _kind_name(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join({int: "an integer", float: "a number", str: "a text", list: "a list", dict: "a mapping",
                        bool: "true or false"}.get(k, k.__name__) for k in kinds)


def safe_folder(root: Path, *parts: str) -> Path | None:
    """``root/parts...`` if every step is a real folder (not a link); ``None`` otherwise."""
    path = Path(root)
    for part in parts:
        path = path / part
        try:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                return None
        except OSError:
            return None
    return path
