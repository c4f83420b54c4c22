import { Chatter } from "@mail/chatter/web_portal/chatter";
import { patch } from "@web/core/utils/patch";

// A dunning task done or cancelled from a customer's chatter changes what its
// form shows (next planned step, last reminder, banner): reload the form, as
// Odoo does when followers change, instead of leaving "waiting to be done".
patch(Chatter.prototype, {
    onActivityChanged(thread) {
        super.onActivityChanged(thread);
        if (thread?.model === "res.partner" && this.props.webRecord) {
            this.reloadParentView();
        }
    },
});
