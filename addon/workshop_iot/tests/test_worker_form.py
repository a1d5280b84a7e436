"""Worker form polish (issue 14, finding 6): the secret buttons are not offered on an unsaved
worker, and "Set token" does not show a (masked) value right after saving it."""

from lxml import etree

from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestWorkerForm(TransactionCase):
    def test_secret_buttons_hidden_on_unsaved_worker(self):
        arch = etree.fromstring(self.env["workshop.worker"].get_view(view_type="form")["arch"])
        for name in ("action_generate_token", "action_generate_api_key"):
            with self.subTest(button=name):
                [button] = arch.xpath(f"//button[@name='{name}']")
                self.assertIn("not id", button.get("invisible", ""))

    def test_set_token_is_empty_after_save(self):
        worker = self.env["workshop.worker"].create({"name": "Form worker", "worker_uid": "wk-form"})
        # What the form does on Save: write the typed token and read the fields back.
        [values] = worker.web_save({"new_token": "n" * 32}, {"new_token": {}, "token_set": {}})
        self.assertFalse(values["new_token"], "the typed token is not sent back to the form")
        self.assertTrue(values["token_set"])
        self.assertEqual(worker.sudo().token, "n" * 32)
