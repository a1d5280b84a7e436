{
    "name": "Workshop IoT Members' Portal",
    "summary": "Members see their own machine sessions, hours and unbilled amount in the customer portal",
    "version": "18.0.1.0.0",
    "category": "Manufacturing",
    "license": "LGPL-3",
    "author": "Workshop IoT contributors",
    # The project's home (issue tracker, releases, docs/); Odoo's Apps screen links to it.
    "website": "https://github.com/workshop-iot/workshop-iot",
    # A separate module so that a workshop without a customer portal need not install `portal`.
    "depends": ["workshop_iot", "portal"],
    "data": [
        "security/ir.model.access.csv",
        "security/workshop_iot_portal_security.xml",
        "views/workshop_iot_portal_templates.xml",
    ],
    "installable": True,
    "auto_install": False,
}
