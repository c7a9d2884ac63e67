import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.einvoicing import vat

rates = st.one_of(
    st.integers(0, 100),
    st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False),
)
amounts = st.integers(0, 10**9)  # up to ten million riyals a line


@given(inclusive=amounts, rate=rates)
def test_a_line_reconciles_to_the_halala_and_rounds_half_up(inclusive, rate):
    line = vat.split_line(inclusive, rate)
    assert line.exclusive + line.vat == inclusive
    percent = Fraction(str(rate))
    exact = Fraction(inclusive) * percent / (100 + percent)  # exact rational arithmetic as the oracle
    assert line.vat == math.floor(exact + Fraction(1, 2))


@given(
    lines=st.lists(st.tuples(amounts, rates), min_size=1, max_size=20),
    tip=st.none() | st.integers(0, 100_000),
)
def test_totals_are_the_sums_of_the_lines_and_reconcile(lines, tip):
    split = [vat.split_line(amount, rate) for amount, rate in lines]
    if tip is not None:
        split.append(vat.split_line(tip, lines[0][1]))
    totals = vat.totals(split)
    assert totals.exclusive + totals.vat == totals.inclusive
    assert totals.inclusive == sum(amount for amount, _ in lines) + (tip or 0)
    assert sum(rate.vat for rate in totals.by_rate) == totals.vat
    assert sum(rate.exclusive for rate in totals.by_rate) == totals.exclusive
    assert len({rate.rate for rate in totals.by_rate}) == len(totals.by_rate)


def test_known_values():
    assert vat.split_line(11500) == vat.LineAmounts(11500, 1500, 10000, Decimal("15.00"))
    assert vat.split_line(1).vat == 0  # 0.13 rounds down
    assert vat.split_line(4).vat == 1  # 0.52 rounds up
    assert vat.split_line(23, 15).vat == 3  # 2.99...: 3
    assert vat.split_line(105, "5").vat == 5
    assert vat.split_line(21, "5").vat == 1  # exactly 1.0
    assert vat.split_line(100, 0).vat == 0


def test_an_exact_half_rounds_up():
    # 10 halalas at 25 %: 10 * 25 / 125 = 2 exactly; 2.5 needs inclusive * r / (100 + r) = x.5:
    # 25 % on 5: 1.0; on 15: 3.0; 100 % on 1 halala: 0.5 -> 1
    assert vat.split_line(1, 100).vat == 1
    assert vat.split_line(3, 100).vat == 2  # 1.5 -> 2


@pytest.mark.parametrize("rate", [15.0, -1, 101, "abc", "15.001", True, Decimal("NaN"), None])
def test_bad_rates_are_refused(rate):
    with pytest.raises(vat.VatError):
        vat.split_line(100, rate)


@pytest.mark.parametrize("amount", [-1, 1.5, "100", True])
def test_bad_amounts_are_refused(amount):
    with pytest.raises(vat.VatError):
        vat.split_line(amount)


def test_an_empty_document_is_refused():
    with pytest.raises(vat.VatError):
        vat.totals([])


def test_formatting():
    assert vat.sar(0) == "0.00"
    assert vat.sar(5) == "0.05"
    assert vat.sar(123456) == "1234.56"
    assert vat.sar(-150) == "-1.50"
    assert vat.percent_text(Decimal(15)) == "15.00"
