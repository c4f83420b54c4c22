{
    "name": "Relance avancée — Job Queue",
    "summary": "Spread the daily dunning run over several Odoo workers with "
    "OCA's queue_job: one job per chunk of customers",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "relance_avancee contributors",
    "website": "https://github.com/relance-avancee/relance_avancee",
    "depends": ["relance_avancee", "queue_job"],
    "data": [
        "data/queue_job_channel_data.xml",
        "data/queue_job_function_data.xml",
        "views/relance_run_views.xml",
    ],
    "installable": True,
    "auto_install": True,
    "application": False,
}
