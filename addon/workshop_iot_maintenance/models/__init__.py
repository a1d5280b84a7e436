from . import workshop_maintenance_plan
from . import maintenance_equipment
from . import maintenance_request
from . import workshop_device
from . import workshop_session
from . import workshop_event
