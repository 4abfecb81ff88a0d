"""Options_vol features (SSOT 3.2): BSM implied vol and greeks from NBBO quotes, parity forwards, SVI surfaces.

The pricing math (Black–Scholes, implied vol, SVI) lives in the foundation package `trademl.pricing`
(the synthetic market uses it too); its names are re-exported here so feature code has one import.
"""

from trademl import pricing
from trademl.features.options.forward import parity_forward
from trademl.pricing import (
    SVIParams,
    bs_delta,
    bs_gamma,
    bs_greeks,
    bs_price,
    bs_rho,
    bs_theta,
    bs_vega,
    butterfly_g,
    cp_sign,
    fit_rmse,
    fit_svi_slice,
    fit_svi_surface,
    implied_vol,
    iv_from_quotes,
    no_arb_flags,
    svi_total_variance,
)

__all__ = sorted([*pricing.__all__, "parity_forward"])
