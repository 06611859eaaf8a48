"""brainstate._compatible_import: the JAX-internal helpers the ecosystem imports from here."""

import pytest

from brainstate._compatible_import import safe_map, safe_zip


def test_safe_map_maps_equal_length_sequences():
    assert safe_map(lambda a, b: a * b, [1, 2, 3], (4, 5, 6)) == [4, 10, 18]


def test_safe_zip_zips_equal_length_sequences():
    assert safe_zip([1, 2], "ab") == [(1, "a"), (2, "b")]


@pytest.mark.parametrize("lengths", [(1, 2), (2, 1), (2, 2, 3)])
def test_safe_map_refuses_sequences_of_different_lengths(lengths):
    # A plain `map` would stop at the shortest sequence and silently drop the rest.
    with pytest.raises(ValueError, match=rf"safe_map: length mismatch \[{', '.join(map(str, lengths))}\]"):
        safe_map(lambda *xs: xs, *[range(n) for n in lengths])


@pytest.mark.parametrize("lengths", [(1, 2), (2, 1), (2, 2, 3)])
def test_safe_zip_refuses_sequences_of_different_lengths(lengths):
    with pytest.raises(ValueError, match=rf"safe_zip: length mismatch \[{', '.join(map(str, lengths))}\]"):
        safe_zip(*[range(n) for n in lengths])
