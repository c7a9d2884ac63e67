"""VAT arithmetic on VAT-inclusive prices, in integer halalas (1 SAR = 100 halalas). Never floats.

The one rounding rule (docs/adr/0009-einvoicing-foundation.md):

1. Per line: ``vat = round_half_up(inclusive * rate / (100 + rate))`` and ``exclusive = inclusive - vat``.
2. Totals are the sums of the lines: inclusive, VAT and exclusive each; the VAT breakdown per rate is the
   sum of that rate's lines.

So every line and every total reconciles to the halala by construction (exclusive + VAT = inclusive).
Rates are percentages with at most two decimals (``15``, ``Decimal("15")``, ``"5.25"``); the arithmetic
runs on integers (the rate in hundredths of a percent), so half-up rounding is exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

DEFAULT_VAT_RATE_PERCENT = Decimal(15)
_HUNDREDTHS = Decimal("0.01")


class VatError(ValueError):
    """An amount or a rate the arithmetic refuses (negative, fractional halalas, bad rate)."""


def parse_rate(rate: int | str | Decimal) -> Decimal:
    """The rate as a Decimal percentage between 0 and 100 with at most two decimals."""
    if isinstance(rate, bool) or not isinstance(rate, int | str | Decimal):
        raise VatError("the VAT rate must be an integer, a Decimal or a decimal string, never a float")
    try:
        value = Decimal(rate)
    except InvalidOperation:
        raise VatError(f"not a VAT rate: {rate!r}") from None
    if not value.is_finite() or not 0 <= value <= 100 or value != value.quantize(_HUNDREDTHS):
        raise VatError(f"a VAT rate is a percentage from 0 to 100 with at most two decimals: {rate!r}")
    return value.quantize(_HUNDREDTHS)


def _halalas(amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise VatError(f"an amount is a non-negative integer number of halalas: {amount!r}")
    return amount


@dataclass(frozen=True)
class LineAmounts:
    inclusive: int  # halalas, VAT included: what the customer pays for the line
    vat: int
    exclusive: int
    rate: Decimal  # percent, two decimals


def split_line(inclusive: int, rate: int | str | Decimal = DEFAULT_VAT_RATE_PERCENT) -> LineAmounts:
    """Splits a VAT-inclusive line into VAT and the VAT-exclusive amount (rule 1)."""
    inclusive = _halalas(inclusive)
    percent = parse_rate(rate)
    hundredths = int(percent * 100)  # 15.00 % -> 1500
    divisor = 10_000 + hundredths
    # round_half_up(inclusive * h / divisor) == floor((2 * inclusive * h + divisor) / (2 * divisor))
    vat = (2 * inclusive * hundredths + divisor) // (2 * divisor)
    return LineAmounts(inclusive=inclusive, vat=vat, exclusive=inclusive - vat, rate=percent)


@dataclass(frozen=True)
class RateTotals:
    rate: Decimal
    exclusive: int  # the taxable amount of this rate
    vat: int


@dataclass(frozen=True)
class Totals:
    lines: tuple[LineAmounts, ...]
    inclusive: int
    vat: int
    exclusive: int
    by_rate: tuple[RateTotals, ...]  # one entry per rate, in the order rates first appear


def totals(lines: Iterable[LineAmounts]) -> Totals:
    """Sums of the lines (rule 2). An empty document is refused: there is nothing to invoice."""
    lines = tuple(lines)
    if not lines:
        raise VatError("a document needs at least one line")
    by_rate: dict[Decimal, list[int]] = {}
    for line in lines:
        exclusive_and_vat = by_rate.setdefault(line.rate, [0, 0])
        exclusive_and_vat[0] += line.exclusive
        exclusive_and_vat[1] += line.vat
    return Totals(
        lines=lines,
        inclusive=sum(line.inclusive for line in lines),
        vat=sum(line.vat for line in lines),
        exclusive=sum(line.exclusive for line in lines),
        by_rate=tuple(RateTotals(rate, exclusive, vat) for rate, (exclusive, vat) in by_rate.items()),
    )


def sar(halalas: int) -> str:
    """Halalas as the SAR amount UBL and the QR carry: ``12345`` -> ``"123.45"``."""
    sign = "-" if halalas < 0 else ""
    whole, cents = divmod(abs(halalas), 100)
    return f"{sign}{whole}.{cents:02d}"


def percent_text(rate: Decimal) -> str:
    """A rate as UBL's ``cbc:Percent``: ``Decimal("15")`` -> ``"15.00"``."""
    return f"{parse_rate(rate):.2f}"
