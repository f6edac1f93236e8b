"""The phrase banks the offline message engine composes from: core lines per intent,
openers and closers per tone, neutral defaults when the objective names no offer, product
or festival, and the deadline line. Words only; `messages` picks, fills and fits them.
"""

from __future__ import annotations

# Placeholders: {offer} the objective's offer or the intent's neutral default;
# {with_offer} " with <offer>" and {offer_sentence} " Enjoy <offer>." only when the
# objective names an offer (nothing is promised that was not given); {product} and
# {festival} from the objective (or a neutral default).
CORE: dict[str, list[str]] = {
    "win-back": ["we miss you! Come back for {offer}.",
                 "it's been a while since your last order. Come back{with_offer}.",
                 "your favourites are still here, waiting for you.{offer_sentence}"],
    "promotion": ["{offer_cap} on {product} is live now.", "enjoy {offer} this week.",
                  "don't miss {offer} on {product}.", "{offer_cap} starts now."],
    "loyalty": ["thank you for shopping with us, {total_spend} and counting!{offer_sentence}",
                "as one of our most valued customers, you get {offer}.",
                "your loyalty means a lot to us.{offer_sentence}"],
    "welcome": ["welcome aboard! Your first order comes with {offer}.",
                "great to have you with us. Start exploring{with_offer}.",
                "thanks for joining! We're so glad you're here.{offer_sentence}"],
    "festive": ["wishing you a joyful {festival}! Celebrate with {offer}.",
                "make this {festival} special with {offer}.",
                "{festival} greetings from all of us.{offer_sentence}"],
    "re-engagement": ["we've missed you around here. See what's new{with_offer}.",
                      "still want to hear from us? Tap to stay in touch{with_offer}.",
                      "a lot has changed since your last visit. Take a look{with_offer}."],
    "new-arrivals": ["our new {product} just arrived. Be the first to shop{with_offer}.",
                     "fresh in: the new {product}.{offer_sentence}",
                     "just launched: our {product}, and you'll love it.{offer_sentence}"],
    "abandoned-cart": ["you left something in your cart. Complete your order{with_offer}.",
                       "your cart is saved, but stock is moving fast. Check out "
                       "now{with_offer}.",
                       "still thinking it over? Your cart is waiting{with_offer}."],
    "feedback": ["how was your recent order? Tell us in a minute{with_offer}.",
                 "we'd love your feedback. Share your thoughts{with_offer}.",
                 "your opinion shapes what we do next. Please rate us{with_offer}."],
}
# Only lines that need {offer} use these when the objective names none; none of them
# promises a discount.
# When the objective names an occasion ("winter sale", "Diwali sale", "clearance"), the
# core lines are these: the occasion in the marketer's own words, in every variant.
OCCASION_CORE: dict[str, list[str]] = {
    "win-back": ["we miss you! Come back for our {occasion}{with_offer}.",
                 "it's been a while. Our {occasion} is the perfect time to come "
                 "back{with_offer}.",
                 "your favourites are waiting in our {occasion}.{offer_sentence}"],
    "festive": ["celebrate {festival} at our {occasion}{with_offer}.",
                "our {occasion} is here for {festival}.{offer_sentence}",
                "make this {festival} special: our {occasion} is on{with_offer}."],
    "default": ["our {occasion} is on now{with_offer}.",
                "don't miss our {occasion}{with_offer}.",
                "the {occasion} has started. Take a look{with_offer}."],
}
DEFAULT_OFFER = {"win-back": "something new we think you'll like",
                 "promotion": "our best prices", "loyalty": "early access to our new picks",
                 "welcome": "our best wishes", "festive": "our festive picks",
                 "re-engagement": "what's new", "new-arrivals": "early access",
                 "abandoned-cart": "one tap", "feedback": "our thanks"}
DEFAULT_PRODUCT = {"new-arrivals": "collection", "promotion": "our bestsellers"}
DEFAULT_FESTIVAL = "festive season"

OPENERS = {
    "friendly": ["Hi {first_name}, ", "Hey {first_name}, ", "Hello {name}, "],
    "urgent": ["{first_name}, hurry: ", "Last chance, {first_name}: ", "Quick, {first_name}! "],
    "premium": ["Dear {name}, ", "{first_name}, an invitation: ", "Dear {first_name}, "],
    "playful": ["Psst, {first_name}! ", "Guess what, {first_name}? ", "Knock knock, "
                "{first_name}! "],
    "formal": ["Dear {name}, ", "Dear customer {name}, ", "Hello {name}, "],
}
CLOSERS = {
    "friendly": ["See you soon!", "Happy shopping!", "We'd love to see you."],
    "urgent": ["Limited time only!", "Don't wait!", "Only while stocks last."],
    "premium": ["Reserved for you.", "With our compliments.", "Crafted for a select few."],
    "playful": ["Go on, treat yourself!", "Your wishlist called. It's a yes!",
                "You know you want to!"],
    "formal": ["Thank you.", "We look forward to serving you.", "Kind regards."],
}
URGENCY = {"urgent": "Ends {deadline}!", "playful": "Hurry, it ends {deadline}!"}
URGENCY_DEFAULT = "Offer ends {deadline}."

# One feeling per message: a part whose sentiment the message already voiced is left out
# ("We'd love to welcome you back… We'd love to see you." read as filler).
SENTIMENTS = {"love": ("love",), "thanks": ("thank", "grateful"), "miss": ("miss",),
              "welcome": ("welcome",), "see": ("see you",),
              "special": ("special", "just for", "reserved"), "while": ("a while",)}
