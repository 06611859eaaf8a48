"""An OrderedDict's order is part of its value: split/merge/clone keep it (plain dicts are
rebuilt with their keys sorted, as documented)."""

import collections

import jax.numpy as jnp

import brainstate as bs


class Net(bs.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = collections.OrderedDict(enc=bs.nn.Linear(2, 3), dec=bs.nn.Linear(3, 2))

    def update(self, x):
        for layer in self.layers.values():
            x = layer(x)
        return x


def test_clone_and_merge_keep_the_order_and_the_forward_pass():
    net = Net()
    x = jnp.ones((1, 2))
    for copy in (bs.graph.clone(net), bs.graph.treefy_merge(*bs.graph.treefy_split(net))):
        assert type(copy.layers) is collections.OrderedDict
        assert list(copy.layers) == ["enc", "dec"]
        assert jnp.allclose(copy(x), net(x))


def test_reordering_an_ordered_dict_changes_the_structure():
    a, b = Net(), Net()
    b.layers.move_to_end("enc")
    assert bs.graph.graphdef(a) != bs.graph.graphdef(b)


def test_plain_dicts_are_still_rebuilt_sorted():
    holder = bs.nn.Module()
    holder.d = {"b": bs.ParamState(jnp.zeros(1)), "a": bs.ParamState(jnp.ones(1))}
    assert list(bs.graph.clone(holder).d) == ["a", "b"]
