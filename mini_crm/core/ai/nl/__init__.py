"""The offline engine for plain-English audiences, one module per stage.

- `tokens`     the lexicon and tokenizer: amounts, periods, dates, comparisons;
- `names`      names the data knows (cities, attribute values) found in a prompt;
- `vocab`      the grammar's word sets (negation, ordering, filler …);
- `field_words` each rule field's own words (FieldSpec.words) from the field registry;
- `clauses`    a prompt split into clauses, and small helpers over one clause;
- `fields`     extractors for names, email domains, text matches, attributes, missing values;
- `dates`      extractors for periods and calendar dates;
- `quantities` extractors for amounts and order counts;
- `future`     clauses that place an order or a sign-up in the future, refused with why;
- `guards`     checks over finished rules, the LLM's too: "phone = missing" is is_null, a
               bare provider its domains, a time after today a warning;
- `windows`    folding counts/spend with a period into windowed order rules;
- `contradictions` rules that match no one together (a warning);
- `near_misses` "did you mean Mumbai?" for unused words near a known name (a warning);
- `combine`    negation and the and/or combination of clauses;
- `explain`    quotes of the prompt, rule phrases, leftovers reported to the marketer;
- `parser`     `parse()`, the entry point that runs the stages in order.
"""

from mini_crm.core.ai.nl.combine import negate
from mini_crm.core.ai.nl.contradictions import contradictions
from mini_crm.core.ai.nl.explain import phrase, readable
from mini_crm.core.ai.nl.parser import ParsedRules, parse

__all__ = ["ParsedRules", "contradictions", "negate", "parse", "phrase", "readable"]
