"""Option pricing math, a foundation package used by the synthetic market and by features/options.

`black_scholes`: Black–Scholes–Merton prices, greeks and vectorised implied volatility;
`svi`: SVI slices and surfaces with no-arbitrage checks. Conventions are in each module's docstring
(t in ACT/365 years, continuously compounded annual rates, annualised decimal vols).
"""

from trademl.pricing.black_scholes import (
    bs_delta,
    bs_gamma,
    bs_greeks,
    bs_price,
    bs_rho,
    bs_theta,
    bs_vega,
    cp_sign,
    implied_vol,
    iv_from_quotes,
)
from trademl.pricing.svi import (
    SVIParams,
    butterfly_g,
    fit_rmse,
    fit_svi_slice,
    fit_svi_surface,
    no_arb_flags,
    svi_total_variance,
)

__all__ = [
    "SVIParams",
    "bs_delta",
    "bs_gamma",
    "bs_greeks",
    "bs_price",
    "bs_rho",
    "bs_theta",
    "bs_vega",
    "butterfly_g",
    "cp_sign",
    "fit_rmse",
    "fit_svi_slice",
    "fit_svi_surface",
    "implied_vol",
    "iv_from_quotes",
    "no_arb_flags",
    "svi_total_variance",
]
