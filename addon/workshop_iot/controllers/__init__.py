from . import workshop_iot
