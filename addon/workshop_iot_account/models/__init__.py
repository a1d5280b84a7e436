from . import res_company
from . import res_config_settings
from . import workshop_device
from . import account_move
from . import workshop_session
from . import workshop_session_invoicing
