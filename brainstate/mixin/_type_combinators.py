"""`JointTypes` and `OneOfTypes`: "an instance of all of these" / "of any of these" as one type.

`JointTypes[A, B]` matches objects that are instances of both `A` and `B` (e.g. a mode that is
training *and* batching); `OneOfTypes[A, B]` matches instances of either. Both work with
`isinstance` and `issubclass`, compare equal regardless of the order of the types, and collapse
to the type itself when given a single one. Call syntax (`JointTypes(A, B)`) works as well.
The results are instances of `_JointGenericAlias` / `_OneOfGenericAlias`, names the reference
exports and released libraries check against (`isinstance(t, _JointGenericAlias)`).
"""

from typing import Any, ClassVar, Iterable, Tuple, Type

__all__ = ["JointTypes", "OneOfTypes", "_JointGenericAlias", "_OneOfGenericAlias"]


class _CombinedTypes:
    """The result of `JointTypes[...]` / `OneOfTypes[...]` with two or more types.

    Subclasses fix how the member checks combine (`all` or `any`). Calling it is an error: it is
    a type for `isinstance`, `issubclass` and annotations, not a class to build.
    """

    __slots__ = ("__args__",)
    _name: ClassVar[str]
    _kind: ClassVar[str]

    @staticmethod
    def _combine(checks: Iterable[bool]) -> bool:
        """How the member checks combine (`all` or `any`); fixed by each subclass."""
        raise NotImplementedError

    def __init__(self, args: Tuple[type, ...]):
        self.__args__ = tuple(args)

    def __instancecheck__(self, obj: Any) -> bool:
        return type(self)._combine(isinstance(obj, t) for t in self.__args__)

    def __subclasscheck__(self, cls: type) -> bool:
        return type(self)._combine(issubclass(cls, t) for t in self.__args__)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"Cannot instantiate {self!r}: it is {self._kind} type for isinstance/issubclass checks "
            f"and annotations, not a constructor. Instantiate one of its member classes directly.")

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self) and frozenset(self.__args__) == frozenset(other.__args__)

    def __hash__(self) -> int:
        return hash((self._name, frozenset(self.__args__)))

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        return type(self), (self.__args__,)

    def __repr__(self) -> str:
        names = ", ".join("None" if t is type(None) else f"{t.__module__}.{t.__qualname__}" for t in self.__args__)
        return f"{self._name}[{names}]"


class _JointGenericAlias(_CombinedTypes):
    """The type of `JointTypes[A, B, ...]`: instances of every one of the member types.

    Example:
      >>> from brainstate.mixin import Batching, JointTypes, Training, _JointGenericAlias
      >>> both = JointTypes[Training, Batching]
      >>> isinstance(both, _JointGenericAlias), both.__args__ == (Training, Batching)
      (True, True)
    """

    __slots__ = ()
    _name = "JointTypes"
    _kind = "an intersection"

    @staticmethod
    def _combine(checks: Iterable[bool]) -> bool:
        return all(checks)


class _OneOfGenericAlias(_CombinedTypes):
    """The type of `OneOfTypes[A, B, ...]`: instances of any one of the member types.

    Example:
      >>> from brainstate.mixin import OneOfTypes, _OneOfGenericAlias
      >>> either = OneOfTypes[int, str]
      >>> isinstance(either, _OneOfGenericAlias), isinstance("x", either), isinstance(1.0, either)
      (True, True, False)
    """

    __slots__ = ()
    _name = "OneOfTypes"
    _kind = "a union"

    @staticmethod
    def _combine(checks: Iterable[bool]) -> bool:
        return any(checks)


class _TypeCombinator:
    """`JointTypes` / `OneOfTypes` themselves: build a combination by `[...]` or `(...)`."""

    def __init__(self, alias: Type[_CombinedTypes], doc: str):
        self._alias = alias
        self._name = alias._name
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
        return self._alias(tuple(unique))

    def __getitem__(self, types: Any) -> Any:
        return self(*types) if isinstance(types, tuple) else self(types)

    def __repr__(self) -> str:
        return f"brainstate.mixin.{self._name}"


JointTypes = _TypeCombinator(_JointGenericAlias, "`JointTypes[A, B, ...]`: instances of every one of the types.")
OneOfTypes = _TypeCombinator(_OneOfGenericAlias, "`OneOfTypes[A, B, ...]`: instances of any one of the types.")
