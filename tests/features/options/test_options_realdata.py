"""Implied vols and SVI surfaces on real option chains (shared/data/real/options), against vendor numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trademl.features.options.forward import parity_forward
from trademl.pricing.black_scholes import implied_vol, iv_from_quotes
from trademl.pricing.svi import SVIParams, fit_svi_surface, svi_total_variance

pytestmark = pytest.mark.realdata

IWM_RATE = 0.0165  # US 3-month bill yield in mid-October 2019, continuously compounded (approx.)
SPY_RATE = 0.001  # US 3-month bill yield at the end of July 2020 (approx.)
VIX_RATE = 0.003  # US 3-month bill yield on 2016-06-01 (approx.)


def _otm(df: pd.DataFrame) -> pd.DataFrame:
    k = np.log(df["strike"] / df["forward"])
    call = df["cp_flag"].str.upper().str.startswith("C")
    return df[(call & (k >= 0)) | (~call & (k < 0))].assign(k=k)


def _smile_iv(rows: pd.DataFrame, surface: pd.DataFrame) -> np.ndarray:
    params = surface.set_index("expiry")[list(SVIParams._fields)]
    out = np.empty(len(rows))
    for i, (expiry, k, t) in enumerate(zip(rows["expiry"], rows["k"], rows["t"])):
        out[i] = np.sqrt(svi_total_variance(k, SVIParams(*params.loc[expiry])) / t)
    return out


@pytest.fixture(scope="module")
def iwm_eod(real_data_dir) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    raw = pd.read_csv(real_data_dir / "options" / "IWM_chain_ivolatility_eod_2019-10-15.csv.gz")
    quotes = pd.DataFrame(
        {
            "expiry": pd.to_datetime(raw["option_expiration"], format="%m/%d/%Y"),
            "strike": raw["strike"],
            "cp_flag": raw["call_put"],
            "bid": raw["bid"],
            "ask": raw["ask"],
            "spot": raw["stock_price_for_iv"],
        }
    )
    quotes["t"] = (quotes["expiry"] - pd.Timestamp("2019-10-15")).dt.days / 365.0
    forwards = parity_forward(quotes, rate=IWM_RATE)
    quotes = quotes.merge(forwards[["expiry", "forward"]], on="expiry")
    ivs = iv_from_quotes(quotes, rate=IWM_RATE)
    surface = fit_svi_surface(ivs, rate=IWM_RATE)
    index = pd.read_csv(real_data_dir / "options" / "IWM_iv_index_ivolatility_2019-10-15.csv").iloc[0]
    return ivs, surface, index


def test_iwm_surface_atm_vol_term_structure_matches_ivolatility_iv_index(iwm_eod):
    _, surface, index = iwm_eod
    atm_w = np.array([svi_total_variance(0.0, SVIParams(*r)) for r in surface[list(SVIParams._fields)].to_numpy()])
    for days in (30, 60, 90, 180, 360):
        t = days / 365.0
        ours = np.sqrt(np.interp(t, surface["t"], atm_w) / t)  # linear in total variance
        assert ours == pytest.approx(index[f"ivMean{days}"], abs=0.005), days


def test_iwm_svi_smiles_sit_inside_the_bid_ask_iv_band_for_most_strikes(iwm_eod):
    ivs, surface, _ = iwm_eod
    otm = _otm(ivs)
    fitted = _smile_iv(otm, surface)
    inside = (fitted >= otm["iv_bid"].fillna(0.0).to_numpy()) & (fitted <= otm["iv_ask"].to_numpy())
    print(f"IWM EOD: {inside.mean():.1%} of {inside.size} OTM quotes inside the band")
    assert inside.mean() > 0.85
    assert surface["butterfly_arb_free"].all()
    assert surface["calendar_arb_free"].mean() >= 0.9


def test_vix_option_ivs_match_cboe_published_ivs(real_data_dir):
    raw = pd.read_csv(real_data_dir / "options" / "VIX_options_cboe_eodcalcs_2016-06-01.csv.gz")
    days = (pd.to_datetime(raw["expiration"]) - pd.Timestamp("2016-06-01")).dt.days
    # VIX options settle at 09:30 ET on expiry day; the 15:45 quotes are 6.25 hours later in the day
    t = (days - 6.25 / 24) / 365.0
    usable = (raw["bid_1545"] > 0) & (days > 0) & (raw["implied_volatility_1545"] > 0.05)  # Cboe writes 0.02 for none
    raw, t = raw[usable], t[usable]
    mid = 0.5 * (raw["bid_1545"] + raw["ask_1545"])
    forward = raw["implied_underlying_price_1545"]  # options on VIX futures: Black on the forward
    ours = implied_vol(mid, forward * np.exp(-VIX_RATE * t), raw["strike"], t, VIX_RATE, 0.0, raw["option_type"])
    diff = np.abs(ours - raw["implied_volatility_1545"].to_numpy())
    assert np.isfinite(ours).mean() > 0.98
    assert np.nanmedian(diff) < 0.005
    assert np.nanpercentile(diff, 90) < 0.02


@pytest.fixture(scope="module")
def spy_ivs(real_data_dir) -> pd.DataFrame:
    raw = pd.read_csv(real_data_dir / "options" / "SPY_chain_yahoo_2020-08-02.csv.gz")
    quotes = pd.DataFrame(
        {
            "expiry": pd.to_datetime(raw["expiry"]),
            "strike": raw["strike"],
            "cp_flag": raw["type"],
            "bid": raw["bid"],
            "ask": raw["ask"],
        }
    )
    quotes["t"] = (quotes["expiry"] - pd.Timestamp("2020-07-31")).dt.days / 365.0  # Friday close quotes
    forwards = parity_forward(quotes, rate=SPY_RATE)
    return iv_from_quotes(quotes.merge(forwards[["expiry", "forward"]], on="expiry"), rate=SPY_RATE)


def test_spy_parity_forward_sits_near_the_close_and_drops_with_the_september_dividend(spy_ivs):
    forwards = spy_ivs.groupby("expiry")["forward"].first()
    assert forwards.iloc[0] == pytest.approx(326.52, abs=0.25)  # SPY closed at 326.52 on 2020-07-31
    before = forwards[forwards.index < "2020-09-18"]
    after = forwards[forwards.index >= "2020-09-18"]  # ex-dividend 2020-09-18 (~1.34 $)
    assert before.min() - after.max() > 0.5


def test_spy_call_and_put_ivs_agree_near_the_money(spy_ivs):
    keyed = spy_ivs.assign(k=np.log(spy_ivs["strike"] / spy_ivs["forward"]))
    near = keyed[keyed["k"].abs() < 0.02]
    calls = near[near["cp_flag"] == "CALL"].set_index(["expiry", "strike"])["iv"]
    puts = near[near["cp_flag"] == "PUT"].set_index(["expiry", "strike"])["iv"]
    both = pd.concat([calls, puts], axis=1, keys=["c", "p"]).dropna()
    assert len(both) > 100
    assert (both["c"] - both["p"]).abs().median() < 0.001


def test_spy_svi_surface_fits_within_half_a_vol_point_without_arbitrage(spy_ivs):
    surface = fit_svi_surface(spy_ivs, rate=SPY_RATE, max_abs_z=3.0)
    assert len(surface) == 25
    assert (surface["fit_rmse_iv"] < 0.005).all()
    assert surface["butterfly_arb_free"].all()
    assert surface["calendar_arb_free"].all()
