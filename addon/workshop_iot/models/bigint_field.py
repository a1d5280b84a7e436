"""A 64-bit integer field: per-device ``seq`` may reach 2^53 - 1 on the wire (JS safe integer),
beyond PostgreSQL's int4 that ``fields.Integer`` uses."""

from odoo import fields


class BigInteger(fields.Integer):
    """``fields.Integer`` stored as ``int8``. Same ``type``, so views and domains treat it as an integer."""

    # MetaField registers a class per ``type`` only once, so this subclass does not replace
    # fields.Integer for the rest of Odoo.
    _column_type = ("int8", "int8")
