{
    "name": "Workshop IoT: Invoicing",
    "summary": "Draft customer invoices from machine usage sessions, per member, by hand or on a schedule",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "Workshop IoT contributors",
    # The project's home (issue tracker, releases, docs/); Odoo's Apps screen links to it.
    "website": "https://github.com/workshop-iot/workshop-iot",
    # A separate module so that a workshop without Invoicing can still install workshop_iot.
    "depends": ["workshop_iot", "account"],
    "data": [
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "views/workshop_device_views.xml",
        "views/workshop_session_views.xml",
        "views/account_move_views.xml",
        "views/res_config_settings_views.xml",
    ],
    "auto_install": False,
    "installable": True,
}
