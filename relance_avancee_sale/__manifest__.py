{
    "name": "Relance avancée — Sales",
    "summary": "The customer's overdue banner on its quotations and sale orders; "
    "salespeople with access to all documents see every customer's dunning",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "relance_avancee contributors",
    "website": "https://github.com/relance-avancee/relance_avancee",
    "depends": ["relance_avancee", "sale"],
    "data": [
        "security/relance_sale_security.xml",
        "views/sale_order_views.xml",
        "views/res_partner_views.xml",
    ],
    "installable": True,
    "auto_install": True,
    "application": False,
}
