"""Deferred construction: `ParamDesc.desc(...)` records a class and its arguments.

A layer that builds sub-layers (a recurrent cell built per step size, a synapse per
projection) is often configured with *how* to build them rather than with instances:
`Linear.desc(out_size=10)` is a `ParamDescriber` that makes a `Linear` when called with the
remaining arguments. Its `identifier` (class, arguments) is hashable, so describers can key
caches; unhashable argument values are represented by their `str` there (`HashableDict`).
"""

from typing import Any, Optional, Sequence

from ._mixin import Mixin

__all__ = ["ParamDesc", "ParamDescriber", "HashableDict", "NoSubclassMeta", "hashable"]


def hashable(x: Any) -> bool:
    """True if `hash(x)` works.

    Example:
      >>> from brainstate.mixin import hashable
      >>> hashable((1, 2)), hashable([1, 2])
      (True, False)
    """
    try:
        hash(x)
    except TypeError:
        return False
    return True


class HashableDict(dict):
    """A dict that can be hashed: unhashable values are stored as their `str`.

    The hash does not depend on the order of the keys.

    Example:
      >>> from brainstate.mixin import HashableDict
      >>> d = HashableDict({'sizes': [1, 2], 'lr': 0.1})
      >>> d['sizes'], hash(d) == hash(HashableDict({'lr': 0.1, 'sizes': [1, 2]}))
      ('[1, 2]', True)
    """

    __module__ = "brainstate.mixin"

    def __init__(self, the_dict: dict):
        super().__init__({k: v if hashable(v) else str(v) for k, v in the_dict.items()})

    # dict declares itself unhashable (`__hash__ = None`); this subclass is hashable by design.
    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))


class NoSubclassMeta(type):
    """Metaclass of classes that must not be subclassed.

    Raises:
      TypeError: when a class tries to inherit from such a class.
    """

    __module__ = "brainstate.mixin"

    def __new__(mcs, name, bases, classdict):
        for base in bases:
            if isinstance(base, NoSubclassMeta):
                raise TypeError(
                    f"type {base.__name__!r} is not an acceptable base type: it is final. Wrap or "
                    f"compose it instead of subclassing.")
        return super().__new__(mcs, name, bases, classdict)


class ParamDescriber(metaclass=NoSubclassMeta):
    """A class plus the arguments to build it with, for building it later (possibly many times).

    Args:
      cls: the class to build.
      *desc_tuple: positional arguments, placed before those given at build time.
      **desc_dict: keyword arguments; those given at build time override them.

    Example:
      >>> from brainstate.mixin import ParamDescriber
      >>> make = ParamDescriber(dict, a=1)
      >>> make(b=2)
      {'a': 1, 'b': 2}
    """

    __module__ = "brainstate.mixin"

    def __init__(self, cls: Any, *desc_tuple: Any, **desc_dict: Any):
        self.cls = cls
        self.args = desc_tuple
        self.kwargs = desc_dict

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Build `cls(*stored_args, *args, **{**stored_kwargs, **kwargs})`."""
        return self.cls(*self.args, *args, **{**self.kwargs, **kwargs})

    def init(self, *args: Any, **kwargs: Any) -> Any:
        """The same as calling the describer."""
        return self(*args, **kwargs)

    @property
    def identifier(self) -> tuple:
        """`(cls, args, kwargs)`, hashable (unhashable values are replaced by their `str`)."""
        args = tuple(a if hashable(a) else str(a) for a in self.args)
        return self.cls, args, HashableDict(self.kwargs)

    def __instancecheck__(self, instance: Any) -> bool:
        # `isinstance(other_describer, describer)`: does `other` build a subclass of our class?
        return isinstance(instance, ParamDescriber) and issubclass(instance.cls, self.cls)

    def __class_getitem__(cls, item: type) -> "ParamDescriber":
        return ParamDescriber(item)

    def __repr__(self) -> str:
        args = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"ParamDescriber({getattr(self.cls, '__name__', self.cls)}({', '.join(args)}))"


class ParamDesc(Mixin):
    """Gives a class a `desc(...)` classmethod that returns a `ParamDescriber` of it.

    Attributes:
      non_hashable_params: names of constructor parameters whose values are not expected to be
        hashable (documentation for users of `identifier`; their `str` is used there).

    Example:
      >>> from brainstate.mixin import ParamDesc
      >>> class Layer(ParamDesc):
      ...     def __init__(self, size, act='relu'):
      ...         self.size, self.act = size, act
      >>> make = Layer.desc(act='tanh')
      >>> make(3).size, make(3).act
      (3, 'tanh')
    """

    __module__ = "brainstate.mixin"

    non_hashable_params: Optional[Sequence[str]] = None

    @classmethod
    def desc(cls, *args: Any, **kwargs: Any) -> ParamDescriber:
        """A `ParamDescriber` of this class with the given arguments."""
        return ParamDescriber(cls, *args, **kwargs)
