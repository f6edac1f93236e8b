"""How chart axes and tooltips write numbers: one compact format for every chart.

Recharts draws a full tick ("₹1,25,000") in a fixed-width axis and clips it from the
left ("25,000"), so every count axis uses COMPACT_TICKS and every money axis
MONEY_TICKS: the brand's compact words (Intl, en-IN: 20000 -> "20K", 150000 -> "1.5L",
12000000 -> "1.2Cr"), with "₹" in front of money. Tooltips have the room for the full
figure (MONEY_TOOLTIP: "₹1,25,000").
"""

from __future__ import annotations

import reflex as rx

_COMPACT = ("new Intl.NumberFormat('en-IN', "
            "{notation: 'compact', maximumFractionDigits: 1}).format(v)")
# A chart axis's counts: 20000 -> "20K", 150000 -> "1.5L".
COMPACT_TICKS = f"(v) => {_COMPACT}"
# A chart axis's rupees: 20000 -> "₹20K", 150000 -> "₹1.5L".
MONEY_TICKS = f"(v) => '₹' + {_COMPACT}"
# A money axis's width: the widest compact labels ("₹12.5L", "₹99.9K") at font size 12
# and the tick's 8 px offset. Measured: "₹1.5L" at 11 px is 45 px wide, so 52 cut its ₹.
MONEY_AXIS_WIDTH = 64
# A tooltip's rupees in full, whole rupees in Indian grouping: ["₹1,25,000", name].
MONEY_TOOLTIP = rx.Var(
    "((value, name) => ['₹' + new Intl.NumberFormat('en-IN', "
    "{maximumFractionDigits: 0}).format(value), name])")
