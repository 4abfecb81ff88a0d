"""Indicator registry: name -> Indicator class, with auto-discovery of the ``builtins`` package."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import threading
from types import ModuleType

from trademl.features.indicators.base import Indicator

BUILTINS_PACKAGE = "trademl.features.indicators.builtins"


class UnknownIndicatorError(KeyError):
    """Raised by ``IndicatorRegistry.get`` for a name nobody registered; the message lists known names."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown indicator"


class IndicatorRegistry:
    """Maps indicator names to ``Indicator`` subclasses.

    ``register_builtins`` imports every module of the builtins package (pkgutil) and registers each
    concrete ``Indicator`` subclass defined there under its ``name``; it is idempotent.
    """

    def __init__(self) -> None:
        self._classes: dict[str, type[Indicator]] = {}

    def register(self, name: str, indicator_class: type[Indicator]) -> None:
        """Register ``indicator_class`` under ``name``; ValueError if the name is taken or invalid."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"indicator name must be a Python identifier, got {name!r}")
        if not (inspect.isclass(indicator_class) and issubclass(indicator_class, Indicator)):
            raise TypeError(f"{indicator_class!r} is not an Indicator subclass")
        if inspect.isabstract(indicator_class):
            raise TypeError(f"{indicator_class.__name__} is abstract and cannot be registered")
        existing = self._classes.get(name)
        if existing is not None:
            raise ValueError(
                f"indicator {name!r} is already registered to {existing.__module__}.{existing.__qualname__}"
            )
        self._classes[name] = indicator_class

    def get(self, name: str) -> type[Indicator]:
        """The class registered under ``name``; UnknownIndicatorError (a KeyError) listing known names."""
        try:
            return self._classes[name]
        except KeyError:
            known = ", ".join(sorted(self._classes)) or "(none registered)"
            raise UnknownIndicatorError(f"unknown indicator {name!r}; known indicators: {known}") from None

    def create(self, name: str, **params: object) -> Indicator:
        """An instance of indicator ``name`` built with ``params`` (unknown parameters -> ValueError)."""
        return self.get(name).from_params(params)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._classes)

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def __len__(self) -> int:
        return len(self._classes)

    def register_builtins(self) -> list[str]:
        """Discover and register every built-in indicator; returns the names registered by this call."""
        added: list[str] = []
        for indicator_class in discover_indicators(BUILTINS_PACKAGE):
            if self._classes.get(indicator_class.name) is indicator_class:
                continue
            self.register(indicator_class.name, indicator_class)
            added.append(indicator_class.name)
        return added


def discover_indicators(package_name: str) -> list[type[Indicator]]:
    """Concrete Indicator subclasses defined in the modules of ``package_name`` (found with pkgutil)."""
    package = importlib.import_module(package_name)
    found: list[type[Indicator]] = []
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{package_name}.{module_info.name}")
        found.extend(_indicators_defined_in(module))
    return found


def _indicators_defined_in(module: ModuleType) -> list[type[Indicator]]:
    return [
        member
        for _, member in inspect.getmembers(module, inspect.isclass)
        if issubclass(member, Indicator)
        and member.__module__ == module.__name__
        and not inspect.isabstract(member)
    ]


_default_registry: IndicatorRegistry | None = None
_default_lock = threading.Lock()


def default_registry() -> IndicatorRegistry:
    """The process-wide registry, with the built-ins registered on first use."""
    global _default_registry
    with _default_lock:
        if _default_registry is None:
            registry = IndicatorRegistry()
            registry.register_builtins()
            _default_registry = registry
        return _default_registry


def get_indicator(name: str) -> type[Indicator]:
    """The indicator class registered under ``name`` in the default registry (spec 000)."""
    return default_registry().get(name)
