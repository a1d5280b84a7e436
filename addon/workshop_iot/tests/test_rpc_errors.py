from odoo.tests import BaseCase
from odoo.tools.misc import file_path

from ..tools import rpc_errors


class TestRpcErrorCatalogue(BaseCase):
    def test_names_equal_codes(self):
        self.assertGreaterEqual(len(rpc_errors.CATALOGUE), 12)
        for name, error in rpc_errors.CATALOGUE.items():
            self.assertEqual(name, error.code)

    def test_json_rpc_codes_are_unique_and_in_range(self):
        codes = [e.jsonrpc_code for e in rpc_errors.CATALOGUE.values() if e.jsonrpc_code is not None]
        self.assertEqual(len(codes), len(set(codes)))
        for code in codes:
            self.assertTrue(-32768 <= code <= -32000, code)

    def test_every_code_is_documented(self):
        with open(file_path("workshop_iot/readme/USAGE.md"), encoding="utf-8") as fh:
            usage = fh.read()
        for name in rpc_errors.CATALOGUE:
            self.assertIn("`%s`" % name, usage, "%s missing from readme/USAGE.md" % name)
