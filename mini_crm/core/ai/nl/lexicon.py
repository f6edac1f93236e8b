"""The words the tokenizer reads: number words, amounts and currency marks, units of
time, month names, comparison phrases, recency windows, mail providers, contractions.

What the grammar then does with the tokens is in `vocab` (words by meaning) and the
clause modules; `tokens` turns a prompt into typed tokens with these lists.
"""

from __future__ import annotations

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}
TIMES_WORDS = {"once": 1, "twice": 2, "thrice": 3}
# Multipliers after a number; Indian units first-class.
MULTIPLIERS = {"k": 1e3, "thousand": 1e3, "thousands": 1e3, "grand": 1e3,
               "lakh": 1e5, "lakhs": 1e5, "lac": 1e5, "lacs": 1e5, "l": 1e5,
               "crore": 1e7, "crores": 1e7, "cr": 1e7,
               "million": 1e6, "mn": 1e6, "hundred": 1e2}
CURRENCY_BEFORE = {"₹", "rs", "inr", "rupees", "rupee"}
CURRENCY_AFTER = {"rupees", "rupee", "rs", "inr", "/-"}
UNITS = {"day": 1, "days": 1, "d": 1, "week": 7, "weeks": 7, "wk": 7, "wks": 7,
         "fortnight": 14, "fortnights": 14, "month": 30, "months": 30, "mo": 30, "mos": 30,
         "mth": 30, "mths": 30, "quarter": 90, "quarters": 90,
         "year": 365, "years": 365, "yr": 365, "yrs": 365, "y": 365}
MONTHS = {"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
          "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8,
          "aug": 8, "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10,
          "november": 11, "nov": 11, "december": 12, "dec": 12}
# Words before a month name that make it a date ("may" and "march" are also verbs).
DATE_LEAD = {"since", "before", "after", "in", "from", "until", "till", "of", "during",
             "between", "and", "to", "born", "birthday", "birth"}

# Comparisons that precede their number; longest phrases are matched first.
CMP_PHRASES: dict[str, str] = {
    "more than": ">", "more then": ">", "greater than": ">", "higher than": ">",
    "bigger than": ">", "larger than": ">", "longer than": ">", "older than": ">",
    "over": ">", "above": ">", "exceeding": ">", "exceeds": ">", "exceed": ">",
    "beyond": ">", "upwards of": ">", "in excess of": ">", "north of": ">",
    "at least": ">=", "atleast": ">=", "no less than": ">=", "not less than": ">=",
    "no fewer than": ">=", "not fewer than": ">=", "a minimum of": ">=", "minimum of": ">=",
    "minimum": ">=", "min": ">=",
    "less than": "<", "less then": "<", "fewer than": "<", "lower than": "<",
    "smaller than": "<", "shorter than": "<", "under": "<", "below": "<", "newer than": "<",
    "at most": "<=", "atmost": "<=", "no more than": "<=", "not more than": "<=",
    "up to": "<=", "upto": "<=", "a maximum of": "<=", "maximum of": "<=", "maximum": "<=",
    "max": "<=", "not over": "<=", "not above": "<=", "no more then": "<=",
    "exactly": "=", "precisely": "=", "equal to": "=", "equals": "=", "only": "=",
    "just": "=",
    "between": "between",
    ">=": ">=", "=>": ">=", "<=": "<=", "=<": "<=", ">": ">", "<": "<",
}
# Comparisons that follow their number ("5 or more", "₹5K+").
POST_PHRASES: dict[str, str] = {
    "or more": ">=", "or above": ">=", "and above": ">=", "and up": ">=", "or higher": ">=",
    "and over": ">=", "or over": ">=", "plus": ">=", "+": ">=", "or greater": ">=",
    "and more": ">=", "or longer": ">=",
    "or less": "<=", "or fewer": "<=", "or below": "<=", "and below": "<=", "or under": "<=",
    "and under": "<=", "or lower": "<=", "and less": "<=", "at most": "<=", "max": "<=",
    "at least": ">=", "minimum": ">=",
}
COUNT_NOUNS = {"order", "orders", "purchases", "purchase", "transactions", "times"}
WINDOW_PHRASES = ("in the last", "in the past", "in last", "in past", "within the last",
                  "within the past", "within last", "within past", "over the last",
                  "over the past", "during the last", "during the past", "for the last",
                  "for the past", "in the previous", "within the previous", "in the recent",
                  "the last", "the past", "last", "past", "previous", "within", "recent")

# Mail providers known without data (the data's own domains are added at parse time).
COMMON_MAIL_DOMAINS = ("gmail.com", "yahoo.com", "yahoo.co.in", "outlook.com", "hotmail.com",
                       "rediffmail.com", "icloud.com", "protonmail.com")
# Only words that mean nothing else in a prompt ("live" would: "customers who live in").
PROVIDER_ALIASES = {"rediff": "rediffmail", "googlemail": "gmail", "proton": "protonmail"}

CONTRACTIONS = {"n't": " not", "won't": "will not", "can't": "can not", "cannot": "can not",
                "ain't": "are not"}
# One character for one, so positions stay put.
TYPOGRAPHY = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-",
                            "\u00a0": " "})
