"""`JointTypes` and `OneOfTypes`: "an instance of all of these" / "of any of these" as one type.

`JointTypes[A, B]` matches objects that are instances of both `A` and `B` (e.g. a mode that is
training *and* batching); `OneOfTypes[A, B]` matches instances of either. Both work with
`isinstance` and `issubclass`, compare equal regardless of the order of the types, and collapse
to the type itself when given a single one. Call syntax (`JointTypes(A, B)`) works as well.
"""

from typing import Any, Callable, Iterable, Tuple

__all__ = ["JointTypes", "OneOfTypes"]


class _CombinedTypes:
    """The result of `JointTypes[...]` / `OneOfTypes[...]` with two or more types."""

    __slots__ = ("_name", "_combine", "__args__")

    def __init__(self, name: str, combine: Callable[[Iterable[bool]], bool], args: Tuple[type, ...]):
        self._name = name
        self._combine = combine
        self.__args__ = args

    def __instancecheck__(self, obj: Any) -> bool:
        return self._combine(isinstance(obj, t) for t in self.__args__)

    def __subclasscheck__(self, cls: type) -> bool:
        return self._combine(issubclass(cls, t) for t in self.__args__)

    def __eq__(self, other: Any) -> bool:
        return (isinstance(other, _CombinedTypes) and self._name == other._name
                and frozenset(self.__args__) == frozenset(other.__args__))

    def __hash__(self) -> int:
        return hash((self._name, frozenset(self.__args__)))

    def __repr__(self) -> str:
        names = ", ".join("None" if t is type(None) else f"{t.__module__}.{t.__qualname__}" for t in self.__args__)
        return f"{self._name}[{names}]"


class _TypeCombinator:
    """`JointTypes` / `OneOfTypes` themselves: build a combination by `[...]` or `(...)`."""

    def __init__(self, name: str, combine: Callable[[Iterable[bool]], bool], doc: str):
        self._name = name
        self._combine = combine
        self.__doc__ = doc

    def __call__(self, *types: Any) -> Any:
        if not types:
            raise TypeError(f"{self._name} needs at least one type, e.g. {self._name}[Training, Batching].")
        unique = []
        for t in types:
            t = type(None) if t is None else t
            if not isinstance(t, type):
                raise TypeError(
                    f"{self._name}: {t!r} is not a type. Pass classes, e.g. {self._name}[Training, Batching].")
            if t not in unique:
                unique.append(t)
        if len(unique) == 1:
            return unique[0]
        return _CombinedTypes(self._name, self._combine, tuple(unique))

    def __getitem__(self, types: Any) -> Any:
        return self(*types) if isinstance(types, tuple) else self(types)

    def __repr__(self) -> str:
        return f"brainstate.mixin.{self._name}"


JointTypes = _TypeCombinator("JointTypes", all, "`JointTypes[A, B, ...]`: instances of every one of the types.")
OneOfTypes = _TypeCombinator("OneOfTypes", any, "`OneOfTypes[A, B, ...]`: instances of any one of the types.")
