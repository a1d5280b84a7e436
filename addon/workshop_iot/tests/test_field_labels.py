"""Field labels people can read (issue 14, finding 6): no field of the module's models shows the
label Odoo derives from its technical name ("Uptime S", "Live Changed At", "Is Late").

The rule: a field of this module whose name has more than one word (``live_changed_at``, not
``name``; a trailing ``_id``/``_ids`` is not counted, as Odoo drops it) carries its own ``string``,
i.e. its label differs from Odoo's default ``name.replace('_', ' ').title()``; and no label ends in
a unit or suffix token (" S", " W", " Ms", " At", ...) or starts with "Is "/"Has "."""

from odoo.models import MAGIC_COLUMNS
from odoo.tests import TransactionCase, tagged

MODELS = ("workshop.broker", "workshop.worker", "workshop.device", "workshop.session", "workshop.event",
          "workshop.worker.secret")
TECHNICAL_TOKENS = {"S", "W", "Ms", "Wh", "At", "Uid"}


def odoo_default_label(name):
    base = name[:-4] if name.endswith("_ids") else name[:-3] if name.endswith("_id") else name
    return base.replace("_", " ").title(), "_" in base


def label_problem(name, label):
    default, multi_word = odoo_default_label(name)
    if multi_word and label == default:
        return "no string= (Odoo's default label)"
    words = label.split()
    if words and (words[-1] in TECHNICAL_TOKENS or words[0] in ("Is", "Has")):
        return "technical label"
    return None


@tagged("post_install", "-at_install")
class TestFieldLabels(TransactionCase):
    def test_rule_flags_the_labels_of_the_issue(self):
        for name in ("uptime_s", "live_changed_at", "is_late", "close_sessions_on_shutdown", "health_status"):
            with self.subTest(name=name):
                self.assertTrue(label_problem(name, odoo_default_label(name)[0]))
        self.assertIsNone(label_problem("name", "Name"))
        self.assertIsNone(label_problem("worker_id", "Worker"))
        self.assertIsNone(label_problem("live_changed_at", "State changed"))

    def test_every_field_of_the_module_has_a_readable_label(self):
        problems = []
        for model in MODELS:
            for name, field in self.env[model]._fields.items():
                if field._module != "workshop_iot" or name in MAGIC_COLUMNS or name == "display_name":
                    continue
                problem = label_problem(name, field.string)
                if problem:
                    problems.append(f"{model}.{name} {field.string!r}: {problem}")
        self.assertFalse(problems, "fields without a readable label:\n" + "\n".join(problems))
