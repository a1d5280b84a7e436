from . import test_invoicing
from . import test_invoice_lifecycle
from . import test_invoicing_cron
