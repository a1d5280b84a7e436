"""Translation files of our modules: export a module's template (``i18n/<module>.pot``) with Odoo's
own exporter, compare it with the committed one, and list what is missing or wrong in a
translation (``i18n/<lang>.po``).

Used by ``test_translations.py`` (the .pot must be fresh, de.po complete) and by
``scripts/odoo/export-pot.sh`` (which writes the templates), so both read one definition of
"the template of a module".
"""

import io
import os
import re

import polib

from odoo.modules.module import get_module_path
from odoo.tools.translate import trans_export

# Header lines that change on every export and say nothing about the strings.
_DATE_LINE = re.compile(r'^"(POT-Creation-Date|PO-Revision-Date): .*\\n"\n', re.MULTILINE)

# printf (%s, %d, %(name)s, %%) and str.format ({0}, {name}) placeholders. A translation must keep
# every one of its msgid's, or Python's % / format raises at runtime (or shows a raw placeholder).
_PLACEHOLDER = re.compile(r"%(?:\([A-Za-z_][A-Za-z0-9_]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifrx%]|\{[A-Za-z0-9_]*\}")


def module_i18n_dir(module):
    return os.path.join(get_module_path(module), "i18n")


def export_template(cr, module):
    """The .pot text of ``module`` as Odoo's ``--i18n-export`` (without ``-l``) writes it."""
    buf = io.BytesIO()
    trans_export(None, [module], buf, "po", cr)
    return buf.getvalue().decode()


def without_dates(text):
    """``text`` without the two header dates, so a re-export of the same strings compares equal."""
    return _DATE_LINE.sub("", text)


def placeholders(text):
    return sorted(_PLACEHOLDER.findall(text))


def translation_problems(pot_path, po_path):
    """What keeps ``po_path`` from being a complete translation of ``pot_path``: missing, empty or
    fuzzy entries, entries the template no longer has, and placeholders that differ from the msgid's.
    One readable line per problem; an empty list means complete."""
    template = polib.pofile(pot_path)
    translation = polib.pofile(po_path)
    wanted = {entry.msgid for entry in template if entry.msgid}
    problems = []
    by_msgid = {}
    for entry in translation:
        if entry.obsolete or not entry.msgid:
            continue
        by_msgid[entry.msgid] = entry
        if entry.msgid not in wanted:
            problems.append("not in the template (re-run scripts/odoo/export-pot.sh): %r" % entry.msgid)
    for msgid in sorted(wanted):
        entry = by_msgid.get(msgid)
        if entry is None:
            problems.append("missing: %r" % msgid)
        elif not entry.msgstr.strip():
            problems.append("untranslated: %r" % msgid)
        elif "fuzzy" in entry.flags:
            problems.append("fuzzy: %r" % msgid)
        elif placeholders(entry.msgstr) != placeholders(msgid):
            problems.append("placeholders %s in %r, %s in its translation %r" % (
                placeholders(msgid), msgid, placeholders(entry.msgstr), entry.msgstr))
    return problems


def _po_blocks(text):
    """(msgid, msgstr, is_javascript) of each entry of a .po text; enough of the format for a scan."""
    for block in text.split("\n\n"):
        if "msgid" not in block:
            continue
        field, parts = None, {"msgid": [], "msgstr": []}
        for line in block.splitlines():
            if line.startswith(("msgid ", "msgstr ")):
                field, _, rest = line.partition(" ")
                parts[field].append(rest)
            elif line.startswith('"') and field:
                parts[field].append(line)
            else:
                field = None
        unquote = lambda chunks: "".join(polib.unescape(c[1:-1]) for c in chunks)  # noqa: E731
        yield unquote(parts["msgid"]), unquote(parts["msgstr"]), "#. odoo-javascript" in block


def javascript_clashes(po_path, addons_paths, skip_modules=()):
    """Our ``_t`` terms that another module's same-language .po translates differently.

    Odoo 18 merges the JS translations of all installed modules into one dictionary keyed by the
    English text (web/static/src/core/l10n/localization_service.js), so such a term shows either
    module's translation, whichever loads last. Every module in ``addons_paths`` is scanned, not
    only the installed ones: a workshop may install any of them. One line per clash."""
    with open(po_path) as f:
        ours = {msgid: msgstr for msgid, msgstr, js in _po_blocks(f.read()) if js and msgid}
    name = os.path.basename(po_path)
    clashes = []
    for path in addons_paths:
        for module in sorted(os.listdir(path)):
            other = os.path.join(path, module, "i18n", name)
            if module in skip_modules or not os.path.isfile(other):
                continue
            with open(other) as f:
                text = f.read()
            if not any(msgid in text for msgid in ours):
                continue
            for msgid, msgstr, js in _po_blocks(text):
                if js and msgid in ours and msgstr and msgstr != ours[msgid]:
                    clashes.append("%r: ours %r, %s's %r" % (msgid, ours[msgid], module, msgstr))
    return clashes
