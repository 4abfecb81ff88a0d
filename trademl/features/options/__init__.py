"""Options_vol features (SSOT 3.2): BSM implied vol and greeks from NBBO quotes, parity forwards, SVI surfaces."""

from trademl.features.options.forward import parity_forward
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
    "parity_forward",
    "svi_total_variance",
]
