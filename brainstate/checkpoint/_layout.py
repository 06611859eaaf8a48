"""How a checkpoint's header says which state each tensor belongs to: two layouts, one reader.

Version 1, path-named. The metadata `states` is a JSON object, state key -> spec (kind, leaves),
and each tensor is named by its state's key plus its leaf key (`'layers.0.weight.bias'`), so
any safetensors tool lists the tensors by graph path. Every key is spelled out twice, so the
header of a chain of N nested modules grows with N²: at a depth of 10,000 it is over safetensors'
100 MB limit.

Version 2, indexed. The metadata `paths` is the key table (`_paths.py`) as JSON rows
`[parent node, part]` for nodes 1, 2, ... (node 0 is the empty key), `states` is a JSON list of
specs each with `path`, its key's node, and tensor `i.j` holds leaf `j` of state `i`. The header
grows with the number of graph nodes and leaves, whatever the depth.

A save writes version 1 when it fits, so that every reader, old ones included, reads ordinary
models, and version 2 when the keys hold more than `MAX_NAMED_TEXT` characters or two tensor
names would collide (a state `'a'` holding a dict leaf `'b'` beside a state `'a.b'`). Reading
accepts both and gives the same `StoredStates`, keys held in a table either way; a restore adds
the target's keys to that table, so matching a state is one node comparison, never a string one.
"""

import json
from dataclasses import dataclass
from typing import Dict, List

from ._encoding import LiveStates
from ._paths import PathTable
from ._storage import FORMAT_VERSION

__all__ = ["PATH_NAMED", "INDEXED", "MAX_NAMED_TEXT", "StoredStates", "name_tensors", "states_metadata",
           "read_states"]

PATH_NAMED, INDEXED = FORMAT_VERSION, "2"  # the `format_version` of each layout
# Characters of state keys and tensor names past which a save is indexed: ordinary models stay
# far below (a thousand layers of 50-character keys is 100 kB); a chain a few hundred modules
# deep crosses it, and the path-named header would then grow with the square of the depth.
MAX_NAMED_TEXT = 1 << 20
_COMPACT = (",", ":")  # JSON without spaces: the indexed layout is for headers of many states


@dataclass(frozen=True)
class StoredStates:
    """The states a checkpoint file records: `specs[i]` is the spec of the state whose key is the
    node `nodes[i]` of `table` (nodes all different)."""

    table: PathTable
    nodes: List[int]
    specs: List[dict]


def _named(key: str, leaf: str) -> str:
    return ".".join(p for p in (key, leaf) if p)


def name_tensors(live: LiveStates, specs: List[dict]) -> str:
    """Give every leaf of `specs` (those of `live`'s states) its tensor name; return the format
    version of the layout chosen (see the module docstring)."""
    text = sum(live.table.length[node] * 2 + sum(len(leaf["key"]) for leaf in spec["leaves"])
               for node, spec in zip(live.nodes, specs, strict=True))
    if text <= MAX_NAMED_TEXT:
        names = set()
        for node, spec in zip(live.nodes, specs):
            key = live.table.key(node)
            for leaf in spec["leaves"]:
                leaf["tensor"] = _named(key, leaf["key"])
                names.add(leaf["tensor"])
        if len(names) == sum(len(spec["leaves"]) for spec in specs):
            return PATH_NAMED
    for i, spec in enumerate(specs):
        for j, leaf in enumerate(spec["leaves"]):
            leaf["tensor"] = f"{i}.{j}"
    return INDEXED


def states_metadata(version: str, live: LiveStates, specs: List[dict]) -> Dict[str, str]:
    """The header metadata recording `live`'s states and their `specs` in the layout `version`.

    `live.table` must hold the keys of `live` alone (as `live_states` builds it for a save), since
    the indexed layout stores the whole table.
    """
    if version == PATH_NAMED:  # the version `write_checkpoint` writes when none is given
        named = {live.table.key(node): spec for node, spec in zip(live.nodes, specs, strict=True)}
        return {"states": json.dumps(named, sort_keys=True)}
    indexed = [dict(spec, path=node) for node, spec in zip(live.nodes, specs, strict=True)]
    return {"format_version": version, "paths": json.dumps(live.table.rows(), separators=_COMPACT),
            "states": json.dumps(indexed, sort_keys=True, separators=_COMPACT)}


def read_states(metadata: Dict[str, str]) -> StoredStates:
    """The states a verified file's metadata records, in either layout.

    Raises:
      KeyError, TypeError, ValueError: the metadata is not a layout's (the caller reports the file).
    """
    table = PathTable()
    nodes, specs = [], []
    if metadata.get("format_version") == INDEXED:
        table = PathTable.from_rows(json.loads(metadata["paths"]))
        stored = json.loads(metadata["states"])
        if not isinstance(stored, list):
            raise TypeError(f"states is a {type(stored).__name__}, not a list")
        for spec in stored:
            node = spec["path"]
            if not (type(node) is int and 0 <= node < len(table)):
                raise ValueError(f"state path {node!r} is not a node of the path table")
            nodes.append(table.state_node(node))
            specs.append(spec)
    else:
        stored = json.loads(metadata["states"])
        if not isinstance(stored, dict):
            raise TypeError(f"states is a {type(stored).__name__}, not an object")
        for key, spec in stored.items():
            nodes.append(table.state_node(table.add_text(0, key)))
            specs.append(spec)
    if len(set(nodes)) != len(nodes):
        raise ValueError("two states have the same key")
    return StoredStates(table, nodes, specs)
