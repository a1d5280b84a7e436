{
    "name": "Workshop IoT: Maintenance by usage",
    "summary": "Machines link to their equipment: working hours from sessions, maintenance plans by usage, "
               "sessions flagged while a blocking request is open",
    "version": "18.0.1.0.0",
    "category": "Manufacturing/Maintenance",
    "license": "LGPL-3",
    "author": "Workshop IoT contributors",
    # The project's home (issue tracker, releases, docs/); Odoo's Apps screen links to it.
    "website": "https://github.com/workshop-iot/workshop-iot",
    # A separate module so that a workshop without Maintenance can still install workshop_iot.
    "depends": ["workshop_iot", "maintenance"],
    "data": [
        "security/ir.model.access.csv",
        "security/workshop_iot_maintenance_security.xml",
        "data/ir_cron_data.xml",
        "views/workshop_maintenance_plan_views.xml",
        "views/maintenance_equipment_views.xml",
        "views/maintenance_request_views.xml",
        "views/workshop_device_views.xml",
        "views/workshop_session_views.xml",
    ],
    "auto_install": False,
    "installable": True,
}
