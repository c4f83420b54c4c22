def post_init_hook(env):
    """Companies that existed before the install get their own profiles."""
    env["res.company"].search([])._relance_install_default_profiles()
    # Installed with demo data: fill the demo company (demo code, kept out of
    # the business models). It runs after Odoo loaded the addon's own terms.
    company = env.ref("relance_avancee.relance_company_demo", raise_if_not_found=False)
    if company:
        from .demo import relance_demo  # noqa: PLC0415 - demo code only

        relance_demo.populate(company)


def uninstall_hook(env):
    """Drop the index the addon put on invoices (see account.move's init)."""
    env.cr.execute("DROP INDEX IF EXISTS relance_account_move_commercial_partner_idx")
