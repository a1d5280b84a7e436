"""Card ids as both sides compare them (no ORM here).

The rule is the shared contract's ``CardId`` (shared/src/contracts/worker-config.ts): whitespace,
':' and '-' removed, a leading 0x dropped, upper-cased; then 1-64 letters and digits. The worker
normalizes what a reader sends, Odoo what a manager types, so "04 a1:b2-c3" on the card form and
"04A1B2C3" from a PN532 are the same card.
"""

import re

_SEPARATORS_RE = re.compile(r"[\s:-]+")
_CARD_ID_RE = re.compile(r"^[0-9A-Z]{1,64}$")


def normalize_card_id(raw):
    """The normalized card id of ``raw``, or None when what is left is not a valid card id."""
    text = _SEPARATORS_RE.sub("", raw or "")
    if text[:2].lower() == "0x":
        text = text[2:]
    text = text.upper()
    return text if _CARD_ID_RE.match(text) else None
