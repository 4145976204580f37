"""Read and write the IDX format of the MNIST and Fashion-MNIST files (NumPy only).

An IDX file is a 4-byte magic number -- two zero bytes, a type code (0x08 for unsigned bytes) and the
number of dimensions -- then one big-endian uint32 per dimension, then the data in C order.
"""

from __future__ import annotations

import struct

import numpy as np

_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in _DTYPES.items()}


class IDXFormatError(ValueError):
    """The bytes are not a well-formed IDX file."""


def parse_idx(raw: bytes, *, name: str = "the IDX data") -> np.ndarray:
    """The array stored in the IDX bytes ``raw``; ``name`` (a file name) appears in any error."""
    if len(raw) < 4:
        raise IDXFormatError(f"{name} is {len(raw)} bytes long, too short for an IDX header.")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code not in _DTYPES:
        raise IDXFormatError(f"{name} does not start with an IDX magic number (got {raw[:4].hex()}).")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(f"{name} ends inside its IDX header.")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _DTYPES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise IDXFormatError(
            f"{name} holds {len(raw)} bytes but its header {shape} announces {expected}: "
            "the file is truncated or corrupted.")
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=True)


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes of ``array`` (the inverse of :func:`parse_idx`)."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _CODES:
        raise IDXFormatError(f"IDX cannot store arrays of dtype {array.dtype}.")
    code = _CODES[native]
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=_DTYPES[code]).tobytes()
