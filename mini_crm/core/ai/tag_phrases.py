"""Labelled training phrases for the campaign-intent classifier (tags.py).

Data, not logic: each intent has short campaign names, objectives and message
snippets written the way marketers write them. The held-out evaluation set lives in
tests/unit/test_ai_tags.py and shares no sentence with this file.

Festival names are replaced by a placeholder before training and prediction, so a
festival the phrases never mention (Onam, Baisakhi) still reads as festive.
"""

from __future__ import annotations

INTENTS: tuple[str, ...] = (
    "win-back", "promotion", "loyalty", "welcome", "festive", "re-engagement",
    "new-arrivals", "abandoned-cart", "feedback",
)

DESCRIPTIONS: dict[str, str] = {
    "win-back": "bring back lapsed buyers who have not purchased in months",
    "promotion": "a sale, discount, coupon or limited-time deal",
    "loyalty": "reward and thank repeat or high-value customers (points, VIP, tiers)",
    "welcome": "greet new sign-ups and encourage the first order",
    "festive": "a festival or holiday occasion (Diwali, Holi, Eid, Christmas, New Year...)",
    "re-engagement": "wake up subscribers who stopped opening, clicking or using the app",
    "new-arrivals": "announce new products, collections or launches",
    "abandoned-cart": "remind shoppers of items left in the cart or an unfinished checkout",
    "feedback": "ask for reviews, ratings or survey answers",
}

FESTIVALS: tuple[str, ...] = (
    "diwali", "deepavali", "dhanteras", "holi", "eid", "eid ul fitr", "eid al adha",
    "ramadan", "ramzan", "bakrid", "christmas", "xmas", "new year", "navratri", "durga puja",
    "dussehra", "dasara", "ganesh chaturthi", "onam", "pongal", "sankranti", "makar sankranti",
    "lohri", "baisakhi", "vaisakhi", "bihu", "raksha bandhan", "rakhi", "karva chauth",
    "janmashtami", "gudi padwa", "ugadi", "vishu", "chhath", "guru nanak jayanti", "gurpurab",
    "easter", "thanksgiving", "valentine", "valentines day", "mother's day", "father's day",
    "independence day", "republic day", "black friday", "hanukkah", "lunar new year",
)

PHRASES: dict[str, list[str]] = {
    "win-back": [
        "we miss you", "it has been a while since your last order",
        "come back and shop with us again", "haven't seen you in months",
        "lapsed customers who stopped buying", "bring back customers inactive for 6 months",
        "win back churned shoppers with a return offer", "welcome back offer for old customers",
        "your favourites are waiting for your return", "it's been too long, here is 15% to return",
        "reactivate buyers who have not purchased in 180 days", "come back to us",
        "we want you back", "return offer for dormant buyers",
        "customers who used to order every month but stopped", "long time no see",
        "miss shopping with us? come back today", "recover lost customers",
        "a special comeback discount for our old friends", "last order was ages ago",
        "lapsed high spenders haven't bought since last year", "come home to your old favourites",
        "churn recovery campaign for past buyers", "we noticed you haven't ordered lately",
        "get back lost revenue from one-time buyers who never returned",
    ],
    "promotion": [
        "flat 20% off sitewide", "weekend sale up to 50% off", "flash sale ends tonight",
        "use code SAVE10 for an extra discount", "buy one get one free", "clearance sale",
        "limited time offer on all shoes", "mega discount days", "end of season sale",
        "free shipping on orders above 999", "deal of the day", "price drop alert",
        "save big this week", "exclusive coupon inside", "rs 500 off on your next order",
        "summer sale starts now", "biggest sale of the year", "hurry, offer valid till sunday",
        "cashback offer on prepaid orders", "combo offer at a special price",
        "discounts on kitchen appliances", "half price on selected items", "grab the best deals",
        "monsoon sale with extra savings", "promo for the long weekend",
        "bank offer 10% instant discount",
        "stock clearance at lowest prices",
    ],
    "loyalty": [
        "thank you for being a loyal customer", "you've earned double reward points",
        "exclusive perks for our vip members", "you are now a gold tier member",
        "loyalty programme bonus", "redeem your points before they expire",
        "a gift for our top customers", "early access for members only",
        "reward our repeat buyers", "thanks for shopping with us five times",
        "celebrate your membership anniversary", "priority service for premium members",
        "our best customers get a special thank you", "upgrade to platinum status",
        "appreciation gift for high spenders", "points balance update and rewards",
        "members only private sale access", "a token of thanks for your loyalty",
        "your birthday reward is here", "exclusive rewards for frequent shoppers",
        "loyal club benefits unlocked", "say thanks to customers who spent over 20000",
        "refer a friend and both earn rewards",
    ],
    "welcome": [
        "welcome to our store", "thanks for signing up", "new here? get 10% off your first order",
        "welcome aboard", "hello and welcome to the family",
        "first purchase discount for new users",
        "greet customers who joined this week", "onboarding series for new sign-ups",
        "nice to meet you", "your account is ready, start shopping",
        "getting started guide for new customers", "welcome gift for new members",
        "thanks for joining our newsletter", "introduce the brand to recent signups",
        "new customer welcome offer", "we are glad you are here",
        "a warm welcome to first-time shoppers", "make your first order special",
        "welcome series day one", "just joined? here's how it works",
    ],
    "festive": [
        "festival greetings and offers", "happy festival from all of us",
        "light up your home this festival", "festive season collection", "festival sale",
        "celebrate the festival with gifts for family", "season's greetings",
        "wishing you joy this holiday season", "holiday gifting guide",
        "festive hampers and sweets", "puja essentials for the festival",
        "celebrate the colours of the festival", "new year new you", "merry festival wishes",
        "gift ideas for the festive week", "festive dressing for family gatherings",
        "bright lights and big celebrations", "holiday season specials",
        "send festive wishes and a gift card", "traditional wear for the festival",
        "decorate your home for the festival", "sweets and dry fruit gift boxes",
    ],
    "re-engagement": [
        "still interested in hearing from us?", "you haven't opened our emails lately",
        "update your preferences", "we noticed you stopped reading our messages",
        "are we still friends? confirm your subscription", "check out what you've been missing",
        "reactivate inactive subscribers", "open the app to see what's new",
        "haven't logged in for a while", "see what's changed since your last visit",
        "wake up dormant app users", "re-engage subscribers who never click",
        "do you still want these updates", "catch up on the latest from us",
        "tell us what you'd like to receive", "inactive email list cleanup",
        "we've improved the app, take a look", "your account has been quiet",
        "nudge users who have not visited the site in 60 days", "come see the new app features",
    ],
    "new-arrivals": [
        "new collection just dropped", "just launched: the autumn range",
        "fresh arrivals this week",
        "introducing our latest product", "be the first to shop the new line",
        "new season styles are here", "meet the newest additions", "now available in store",
        "launch of our new fragrance", "latest designs in stock", "brand new range of gadgets",
        "sneak peek at what's new", "pre-order the new edition",
        "new flavours have arrived", "back in stock and new colours added",
        "exclusive launch for our new skincare line", "the new catalogue is out",
        "shop the latest trends", "limited edition drop", "just in: summer essentials",
    ],
    "abandoned-cart": [
        "you left something in your cart", "complete your purchase", "your cart is waiting",
        "items in your bag are selling out", "forgot something? finish checkout",
        "still thinking about it? your cart is saved", "checkout reminder",
        "don't miss the items you added", "your basket misses you",
        "complete your order before stock runs out", "finish your checkout and get free delivery",
        "abandoned basket reminder", "you were so close to checking out",
        "the products in your cart are almost gone", "return to your cart",
        "cart recovery message", "payment not completed, try again",
        "pick up where you left off in your cart",
    ],
    "feedback": [
        "how did we do?", "rate your recent purchase", "leave a review", "take our short survey",
        "tell us about your experience", "we value your feedback", "share your thoughts",
        "how was your delivery", "help us improve with two minutes of feedback",
        "write a product review and get points", "rate us on the app store",
        "customer satisfaction survey", "was your order as expected", "your opinion matters",
        "quick poll about our service", "net promoter score survey",
        "review the items you bought", "give us a star rating",
    ],
}
