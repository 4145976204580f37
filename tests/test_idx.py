import numpy as np
import pytest

from labkit.idx import IDXFormatError, encode_idx, parse_idx


def test_round_trip_keeps_shape_dtype_and_values():
    """Does parsing what encode_idx wrote give back the same array?"""
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    labels = np.array([3, 7], dtype=np.uint8)
    for array in (images, labels):
        parsed = parse_idx(encode_idx(array))
        assert parsed.dtype == array.dtype and parsed.shape == array.shape
        np.testing.assert_array_equal(parsed, array)


def test_header_follows_the_idx_layout():
    """Is the header the magic 0, 0, 0x08, ndim followed by big-endian dimensions?"""
    raw = encode_idx(np.zeros((3, 2), dtype=np.uint8))
    assert raw[:4] == bytes([0, 0, 0x08, 2])
    assert raw[4:12] == (3).to_bytes(4, "big") + (2).to_bytes(4, "big")
    assert len(raw) == 12 + 6


def test_truncated_data_is_rejected_with_the_name():
    """Does a file cut short raise an error that names it and says truncated?"""
    raw = encode_idx(np.ones((4, 28, 28), dtype=np.uint8))
    with pytest.raises(IDXFormatError, match=r"train-images.*truncated"):
        parse_idx(raw[:-10], name="train-images")


def test_bad_magic_is_rejected():
    """Is a file that is not IDX at all rejected?"""
    with pytest.raises(IDXFormatError, match="magic"):
        parse_idx(b"PK\x03\x04" + bytes(20), name="x.zip")


def test_too_short_for_a_header():
    """Are a few stray bytes rejected rather than parsed?"""
    with pytest.raises(IDXFormatError, match="too short"):
        parse_idx(b"\x00\x00", name="tiny")
