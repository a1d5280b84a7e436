from . import ir_http
from . import res_users_apikeys
from . import workshop_alert  # the alerts mixin, before the models that inherit it
from . import workshop_broker
from . import workshop_worker
from . import workshop_worker_health
from . import workshop_worker_rpc
from . import workshop_worker_secrets
from . import workshop_worker_secret
from . import worker_config_part
from . import workshop_device
from . import workshop_device_live
from . import workshop_session
from . import workshop_session_processing
from . import workshop_session_review
from . import workshop_device_claim
from . import workshop_event
from . import workshop_event_fold
from . import res_config_settings
from . import workshop_worker_connect
from . import workshop_discovered_meter
from . import ir_websocket  # after workshop_device_live, whose constants it reads
from . import bus_bus  # after workshop_device_live too
from . import workshop_member_card
from . import workshop_badge_reader
from . import workshop_session_members
from . import workshop_device_alerts
from . import workshop_worker_alerts
from . import workshop_worker_deadletters
from . import workshop_event_retention
from . import workshop_device_calibration
