def post_init_hook(env):
    """Companies that existed before the install get their own profiles."""
    env["res.company"].search([])._relance_install_default_profiles()


def uninstall_hook(env):
    """Drop the index the addon put on invoices (see account.move's init)."""
    env.cr.execute("DROP INDEX IF EXISTS relance_account_move_commercial_partner_idx")
