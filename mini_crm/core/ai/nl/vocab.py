"""Words the plain-English grammar knows, by what they mean (negation, ordering, filler …).

Only words that are not about one rule field: a word naming one field ("spent", "aov",
"joined", "mobile") is on that field's spec (`FieldSpec.words`, core/segments/fields.py),
read through `field_words`. Ordering words ("ordered", "orders") are here because they
are about several fields (the count, the last and first order, windowed rules).
"""

from __future__ import annotations

MAX_VALUE = 1e12
MAX_DAYS = 36_500

# --- vocabulary the grammar uses ---------------------------------------------------------
NEG = {"not", "no", "never", "without", "none", "non", "nor", "nothing", "zero"}
LAPSE = {"inactive", "lapsed", "dormant", "churned", "stopped", "quiet", "idle", "lost",
         "absent", "away", "gone", "missing"}
ORDER_VERBS = {"ordered", "order", "ordering", "purchased", "purchase", "purchasing", "bought",
               "buy", "buying", "shopped", "shop", "shopping", "transacted", "transact",
               "checked", "paid", "spent", "active", "visited", "came", "returned"}
ORDER_NOUNS = {"order", "orders", "purchase", "purchases", "transaction", "transactions",
               "times", "time", "buys", "checkouts", "bookings", "booking"}
# Ordinary nouns that mean tenure only before "for"/"since" ("customers for 2 years"):
# a pattern of the grammar (dates.time_field), not names of the signup field.
TENURE_NOUNS = {"customer", "customers", "member", "members", "us", "been", "client",
                "clients", "around"}
REPEAT = {"repeat", "returning", "recurring", "regular", "regulars"}
TEXT_OPS = {"contains": "contains", "containing": "contains", "includes": "contains",
            "including": "contains", "has": "contains", "with": "contains",
            "starts with": "starts_with", "starting with": "starts_with",
            "begins with": "starts_with", "beginning with": "starts_with",
            "start with": "starts_with", "begin with": "starts_with",
            "ends with": "ends_with", "ending with": "ends_with", "end with": "ends_with",
            "ending in": "ends_with", "ends in": "ends_with", "at": "ends_with",
            "does not contain": "not_contains", "do not contain": "not_contains",
            "not containing": "not_contains", "without": "not_contains",
            "is not": "!=", "is": "=", "equals": "=", "=": "=", "of": "=", ":": "=",
            "!=": "!="}
NOT_BEFORE = ("not in", "not from", "not based in", "not living in", "outside of", "outside",
              "except", "except for", "excluding", "other than", "apart from", "besides",
              "not", "non", "aside from", "but not")
FILLER = {
    "customers", "customer", "people", "persons", "person", "users", "user", "shoppers",
    "shopper", "buyers", "buyer", "clients", "client", "members", "member", "folks", "folk",
    "audience", "segment", "contacts", "everyone", "everybody", "all", "those", "them",
    "the", "a", "an", "of", "who", "have", "has", "had", "been", "are", "is", "was", "were",
    "did", "do", "does", "their", "they", "in", "at", "on", "for", "to", "by", "me", "show",
    "find", "get", "give", "list", "target", "want", "i", "we", "our", "my", "anyone",
    "any", "ones", "live", "lives", "living", "based", "located", "from", "that", "which",
    "with", "and", "or", "but", "also", "still", "yet", "ever", "already", "so", "far",
    "please", "let", "us", "can", "could", "would", "like", "some", "there", "here",
    "whose", "whom", "it", "its", "be", "being", "this", "these", "where", "than", "then",
    "total", "overall", "amount", "money", "rupees", "more", "less", "each", "only",
    "just", "ago", "back", "since", "before", "after", "within", "over", "account",
    "accounts", "address", "id", "recently", "currently", "now", "time", "times",
    "anything", "something", "single", "made", "make", "placed", "place", "done",
    "during", "across", "around", "about", "roughly", "approximately", "s", "&", "+",
    "having", "use", "using", "holders", "holder", "owners", "people's", "fans",
    "subscribers", "guys", "everybody's", "other", "every", "whole", "entire",
    "if", "when", "as", "well", "either", "both", "too", "into", "via", "through",
    "signed", "up",
    # contractions and shorthand that carry no condition
    "who've", "they've", "we've", "i've", "who're", "cust", "custs", "addresses", "size",
    "used", "came",
}
SPLIT = {"and", "or", "but", "who", "whose", "that", "which", "while", "with", "also",
         "either", "nor", "whereas", "plus", "where", "except", "excluding", "besides",
         "minus", "unless"}
EXCLUDE = ("except for", "except", "excluding", "other than", "apart from", "besides",
           "minus", "aside from", "but not", "and not", "unless", "exclude", "leaving out",
           "not including", "without counting")


VAGUE = {"high", "low", "big", "top", "best", "good", "valuable", "premium", "key", "target",
         "targeted", "loyal", "engaged", "active", "segment", "group", "cohort", "list"}
