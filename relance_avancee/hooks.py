def post_init_hook(env):
    """Companies that existed before the install get their own profiles."""
    env["res.company"].search([])._relance_install_default_profiles()
