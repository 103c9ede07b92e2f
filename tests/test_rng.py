"""The package's random-number convention (decisionmodel/rng.py)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from decisionmodel.rng import as_generator, base_seed, keyed_stream


@pytest.mark.parametrize(
    "bad",
    [None, True, 1.5, "1", np.random.RandomState(1), [1, 2]],
    ids=["None", "bool", "float", "str", "RandomState", "list"],
)
def test_anything_but_a_generator_a_seed_sequence_or_an_int_is_refused(bad):
    with pytest.raises(TypeError, match="rng"):
        as_generator(bad)


def test_a_negative_seed_is_refused():
    with pytest.raises(ValueError, match=">= 0"):
        as_generator(np.int64(-3))


def test_int_seed_sequence_and_generator_agree_with_numpy():
    ref = np.random.default_rng(42).random(5)
    assert np.array_equal(as_generator(42).random(5), ref)
    assert np.array_equal(as_generator(np.int32(42)).random(5), ref)
    assert np.array_equal(as_generator(np.random.SeedSequence(42)).random(5), ref)
    g = np.random.default_rng(42)
    assert as_generator(g) is g


@given(st.integers(0, 2**63 - 2), st.text(min_size=1, max_size=20))
def test_keyed_stream_is_numpys_generator_of_base_and_crc32_of_the_key(base, key):
    # the formula the parameter, evidence-draw and model streams have always used
    ref = np.random.default_rng([base, zlib.crc32(key.encode("utf-8"))])
    assert np.array_equal(keyed_stream(base, key).integers(0, 2**32, 4), ref.integers(0, 2**32, 4))


def test_keyed_streams_do_not_depend_on_the_order_they_are_made_in():
    keys = ["a", "b", "c"]
    forward = {k: keyed_stream(9, k).random() for k in keys}
    backward = {k: keyed_stream(9, k).random() for k in reversed(keys)}
    assert forward == backward
    assert len(set(forward.values())) == 3


def test_base_seed_is_the_first_integer_of_the_generator():
    assert base_seed(5) == int(np.random.default_rng(5).integers(0, 2**63 - 1))
    assert base_seed(5, high=2**31 - 1) == int(np.random.default_rng(5).integers(0, 2**31 - 1))
