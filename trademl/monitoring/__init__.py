"""Monitoring of the running platform (SSOT 6.5): data coverage, alerts and tripwires.

Import from the modules themselves (`trademl.monitoring.coverage`, ...); this package keeps no facade.
"""
