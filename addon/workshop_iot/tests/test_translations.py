"""Translations of every Workshop IoT module (issue 17): each module's committed ``i18n/<module>.pot``
is what Odoo's exporter writes today, its German ``de.po`` translates every entry (no empty or fuzzy
one, the placeholders of the msgid kept), and German actually reaches a German user: Python messages,
field labels, and the dashboard's labels in a real browser.

A stale template or a missing translation is fixed by ``scripts/odoo/export-pot.sh`` (re-export and
merge) and then translating the entries it lists.
"""

import difflib
import os
import tempfile

import odoo.addons

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.modules.module import get_module_path
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

from .common import browser_script
from .i18n_files import (
    export_template, javascript_clashes, module_i18n_dir, translation_problems, without_dates,
)

FIX = "run scripts/odoo/export-pot.sh and translate what it lists"


def our_modules(env):
    """Installed modules that live beside workshop_iot (the repository's addon/ folder)."""
    home = os.path.dirname(get_module_path("workshop_iot"))
    installed = env["ir.module.module"].search([("state", "=", "installed")]).mapped("name")
    return sorted(name for name in installed
                  if (get_module_path(name, display_warning=False) or "").startswith(home + os.sep))


@tagged("post_install", "-at_install")
class TestTranslationFiles(TransactionCase):

    def test_every_module_of_ours_is_checked(self):
        modules = our_modules(self.env)
        self.assertIn("workshop_iot", modules)
        self.assertNotIn("web", modules)
        installed = self.env["ir.module.module"].search([("state", "=", "installed")]).mapped("name")
        if "workshop_iot_portal" in installed:
            self.assertIn("workshop_iot_portal", modules)

    def test_each_committed_template_is_what_odoo_exports_now(self):
        for module in our_modules(self.env):
            with self.subTest(module=module):
                path = os.path.join(module_i18n_dir(module), module + ".pot")
                self.assertTrue(os.path.isfile(path), "addon/%s/i18n/%s.pot is missing: %s" % (module, module, FIX))
                with open(path) as f:
                    committed = without_dates(f.read())
                fresh = without_dates(export_template(self.env.cr, module))
                if committed != fresh:
                    diff = difflib.unified_diff(committed.splitlines(), fresh.splitlines(),
                                                "committed %s.pot" % module, "exported now", lineterm="", n=1)
                    self.fail("addon/%s/i18n/%s.pot is stale (%s):\n%s" % (
                        module, module, FIX, "\n".join(list(diff)[:60])))

    def test_german_translates_every_entry_with_its_placeholders(self):
        for module in our_modules(self.env):
            with self.subTest(module=module):
                folder = module_i18n_dir(module)
                self.assertTrue(os.path.isfile(os.path.join(folder, "de.po")),
                                "addon/%s/i18n/de.po is missing: %s" % (module, FIX))
                problems = translation_problems(os.path.join(folder, module + ".pot"), os.path.join(folder, "de.po"))
                self.assertEqual(problems, [], "addon/%s/i18n/de.po is incomplete (%s):\n%s" % (
                    module, FIX, "\n".join(problems[:40])))

    def test_no_dashboard_term_shows_another_modules_german(self):
        """Odoo 18 keeps one JS translation per English text across all modules: ours must agree
        with every other module's German of the same text, or rename the msgid."""
        ours = our_modules(self.env)
        for module in ours:
            with self.subTest(module=module):
                clashes = javascript_clashes(os.path.join(module_i18n_dir(module), "de.po"),
                                             odoo.addons.__path__, skip_modules=ours)
                self.assertEqual(clashes, [], "JS terms translated differently by other modules "
                                 "(use a more specific msgid):\n%s" % "\n".join(clashes))

    def test_the_clash_check_finds_a_known_clash(self):
        """On the term the first German translation had: "Power" is Odoo spreadsheet's "Motorleistung"."""
        folder = tempfile.mkdtemp()
        po = os.path.join(folder, "de.po")
        with open(po, "w") as f:
            f.write('msgid ""\nmsgstr ""\n\n#. module: x\n#. odoo-javascript\nmsgid "Power"\nmsgstr "Leistung"\n\n'
                    '#. module: x\nmsgid "Idle"\nmsgstr "Inaktiv"\n')
        clashes = javascript_clashes(po, odoo.addons.__path__)
        self.assertIn("'Power': ours 'Leistung', spreadsheet's 'Motorleistung'", clashes)
        # A model term (not odoo-javascript) is translated per record, never merged: no clash.
        self.assertFalse([c for c in clashes if c.startswith("'Idle'")], clashes)

    def test_placeholder_check_catches_a_lost_or_renamed_placeholder(self):
        """The rule the German check applies, on wrong translations it must refuse."""
        folder = tempfile.mkdtemp()
        pot, po = os.path.join(folder, "x.pot"), os.path.join(folder, "de.po")
        with open(pot, "w") as f:
            f.write('msgid ""\nmsgstr ""\n\nmsgid "Sessions of %s"\nmsgstr ""\n\n'
                    'msgid "%(name)s: bad"\nmsgstr ""\n\nmsgid "Step {0}"\nmsgstr ""\n\nmsgid "Left"\nmsgstr ""\n')
        with open(po, "w") as f:
            f.write('msgid ""\nmsgstr ""\n\nmsgid "Sessions of %s"\nmsgstr "Nutzungen"\n\n'
                    'msgid "%(name)s: bad"\nmsgstr "%(nom)s: schlecht"\n\n'
                    '#, fuzzy\nmsgid "Step {0}"\nmsgstr "Schritt {0}"\n\nmsgid "Left"\nmsgstr ""\n\n'
                    'msgid "Gone"\nmsgstr "Weg"\n')
        problems = translation_problems(pot, po)
        self.assertEqual(len(problems), 5, problems)
        self.assertTrue(any("['%s']" in p and "Nutzungen" in p for p in problems), problems)
        self.assertTrue(any("%(nom)s" in p for p in problems), problems)
        self.assertIn("fuzzy: 'Step {0}'", problems)
        self.assertIn("untranslated: 'Left'", problems)
        self.assertTrue(any(p.startswith("not in the template") and "Gone" in p for p in problems), problems)


@tagged("post_install", "-at_install")
class TestGermanInOdoo(TransactionCase):
    """German reaches a German user through Odoo's own loading of de.po."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("de_DE")
        cls.env["ir.module.module"]._load_module_terms(["workshop_iot"], ["de_DE"])
        cls.de = cls.env(context=dict(cls.env.context, lang="de_DE"))

    def test_field_labels_and_menus_are_german(self):
        fields = self.de["workshop.device"].fields_get(["device_id", "standby_threshold_w"], ["string"])
        self.assertEqual(fields["device_id"]["string"], "Geräte-ID")
        self.assertEqual(fields["standby_threshold_w"]["string"], "Standby-Schwelle (W)")
        self.assertEqual(self.de.ref("workshop_iot.menu_root").name, "Werkstatt")
        self.assertEqual(self.de["ir.model"]._get("workshop.device").name, "Werkstattmaschine")

    def test_a_python_message_is_german_with_its_values(self):
        with self.assertRaises(ValidationError) as caught:
            self.de["workshop.device"].create({
                "name": "Säge", "device_id": "de-saw", "topic": "shellyplus1pm-de-saw",
                "standby_threshold_w": -1, "working_threshold_w": 50,
            })
        self.assertEqual(str(caught.exception), "Säge: Die Schwellen müssen 0 <= Standby < Arbeit erfüllen.")


# The German dashboard: labels from _t() in the built bundle, translated by de.po (KEYS: label -> text).
GERMAN_BODY = """
        const tile = (id) => document.querySelector(`.o_workshop_iot_tile[data-device-id="${id}"]`);
        const textOf = (sel) => document.querySelector(sel).textContent.trim();
        await waitFor(() => tile("de-laser") && tile("de-lathe"), "both tiles");
        const seen = {
            title: textOf(".o_workshop_iot_title"),
            working: tile("de-laser").querySelector(".o_workshop_iot_state_text").textContent.trim(),
            unknown: tile("de-lathe").querySelector(".o_workshop_iot_state_text").textContent.trim(),
            all: document.querySelector('.o_workshop_iot_filter[data-filter="all"]')
                .textContent.replace(/[0-9]/g, "").trim(),
            groupByArea: textOf(".o_workshop_iot_group_toggle"),
            kiosk: textOf(".o_workshop_iot_kiosk_toggle"),
            power: tile("de-laser").querySelector(".o_workshop_iot_fact dt").textContent.trim(),
            noArea: [...document.querySelectorAll(".o_workshop_iot_area_title")]
                .map((el) => el.firstChild.textContent.trim()).pop(),
            never: tile("de-lathe").querySelector(".o_workshop_iot_last_seen").textContent.trim(),
            powerValue: tile("de-laser").querySelector(".o_workshop_iot_power").textContent.trim(),
        };
        for (const [key, want] of Object.entries(EXPECTED)) {
            if (seen[key] !== want) throw new Error(`${key}: expected "${want}", got "${seen[key]}"`);
        }
        tile("de-laser").querySelector(".o_workshop_iot_tile_open").click();
        await waitFor(() => document.querySelector(".o_list_renderer"), "sessions list");
        const crumbs = document.querySelector(".o_breadcrumb").textContent;
        if (!crumbs.includes(SESSIONS_OF)) throw new Error(`breadcrumb: ${crumbs}`);
"""


@tagged("post_install", "-at_install")
class TestGermanDashboardTour(HttpCase):
    """A user whose language is German sees the dashboard in German (chromium)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        # What adding German in Settings does for our module: the language active and its terms
        # (field and selection labels: the dashboard's state names) loaded; JS terms come from de.po.
        env["res.lang"]._activate_lang("de_DE")
        env["ir.module.module"]._load_module_terms(["workshop_iot"], ["de_DE"])
        new_test_user(env, login="wiot-de-staff", groups="workshop_iot.workshop_iot_group_user", lang="de_DE")
        worker_user = new_test_user(env, login="wiot-de-worker", groups="workshop_iot.workshop_iot_group_worker")
        broker = env["workshop.broker"].create({"name": "DE broker", "url": "mqtt://broker.test:1883"})
        worker = env["workshop.worker"].create({
            "name": "DE worker", "worker_uid": "wk-de", "url": "http://worker.test:8787",
            "token": "g" * 32, "broker_id": broker.id, "user_id": worker_user.id,
        })
        laser = env["workshop.device"].create({
            "name": "Laser", "device_id": "de-laser", "topic": "shellyplus1pm-de-laser",
            "worker_id": worker.id, "area": "Halle A",
        })
        now = fields.Datetime.now().replace(microsecond=0)
        laser.write({"live_state": "working", "live_power_w": 1250.0, "live_last_seen_at": now, "live_changed_at": now})
        env["workshop.device"].create({
            "name": "Drehbank", "device_id": "de-lathe", "topic": "tasmota_de_lathe", "parser_type": "tasmota",
            "worker_id": worker.id,
        })

    def test_dashboard_labels_are_german(self):
        expected = {
            "title": "Maschinen", "working": "Arbeitet", "unknown": "Unbekannt", "all": "Alle",
            "groupByArea": "Nach Bereich gruppieren", "kiosk": "Vollbild", "power": "Leistung",
            "noArea": "Kein Bereich", "never": "nie",
            # The German number format comes with the language (decimal comma).
            "powerValue": "1,25 kW",
        }
        code = browser_script("German dashboard", GERMAN_BODY, EXPECTED=expected, SESSIONS_OF="Nutzungen von Laser")
        self.browser_js("/odoo/action-workshop_iot.dashboard_action", code, login="wiot-de-staff", timeout=120)
