"""Built-in indicators. Every module here is imported by ``IndicatorRegistry.register_builtins`` (via
pkgutil), and every concrete ``Indicator`` subclass defined in it is registered under its ``name``."""
