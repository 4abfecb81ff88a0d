"""TradeML package."""
