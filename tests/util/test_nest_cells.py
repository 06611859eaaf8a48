"""`util._paths.nest_cells`: paths given as parent-linked cells nest into a NestedDict; a path
that is both a leaf and a sub-dict, or the root itself, is refused."""

import pytest

from brainstate.util._paths import nest_cells


def test_cells_nest_under_their_shared_parents():
    layer = (None, "layer")
    out = nest_cells([((layer, "w"), 1), ((layer, "b"), 2), ((None, "top"), 3)])
    assert out.to_dict() == {"layer": {"w": 1, "b": 2}, "top": 3}


def test_a_value_at_the_root_is_refused():
    with pytest.raises(ValueError, match=r"nest_cells: a value sits at the root path \(\), which names the nesting"):
        nest_cells([(None, 1)])


def test_a_path_under_a_leaf_is_refused():
    a = (None, "a")
    with pytest.raises(ValueError, match=r"nest_cells: path .* lies under .*, which already holds a leaf \(int\)\. "
                                         r"A path cannot be both a leaf and a sub-dict"):
        nest_cells([(a, 1), (((a, "b"), "c"), 2)])


def test_a_leaf_above_other_paths_is_refused():
    a = (None, "a")
    with pytest.raises(ValueError, match=r"nest_cells: path .* holds a leaf but other paths lie under it\. A path "
                                         r"cannot be both a leaf and a sub-dict"):
        nest_cells([((a, "b"), 1), (a, 2)])
