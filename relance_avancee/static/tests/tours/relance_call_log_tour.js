import { registry } from "@web/core/registry";

// A collector opens a customer whose phone step is waiting, logs the call
// with a promise to pay in ten days and sees it in the customer's chatter.
registry.category("web_tour.tours").add("relance_call_log_promise", {
    steps: () => {
        const promised = luxon.DateTime.local().plus({ days: 10 }).toFormat("MM/dd/yyyy");
        return [
            {
                content: "The customer's form is open: go to its Dunning tab",
                trigger: ".o_form_view .o_notebook a:contains('Dunning')",
                run: "click",
            },
            {
                content: "Log a call",
                trigger: ".o_form_view button[name='action_relance_log_call']",
                run: "click",
            },
            {
                content: "The call screen shows the customer's open invoice",
                trigger: ".modal .o_field_widget[name='open_move_ids'] .o_data_row:contains('900.00')",
            },
            {
                content: "...and the phone step it makes",
                trigger: ".modal .o_field_widget[name='communication_id'] input:value(/.+/)",
            },
            {
                content: "The customer promised to pay",
                trigger: ".modal .o_field_widget[name='outcome'] .o_radio_item:contains('Promise made') input",
                run: "click",
            },
            {
                content: "...in ten days",
                trigger: ".modal .o_field_widget[name='promise_date'] input",
                run: `edit ${promised}`,
            },
            {
                content: "...the whole amount, proposed",
                trigger: ".modal .o_field_widget[name='promise_amount'] input:value(900.00)",
            },
            {
                content: "Note what was said",
                trigger: ".modal .o_field_widget[name='note'] textarea",
                run: "edit Paiement par virement en fin de mois",
            },
            {
                content: "Log the call",
                trigger: ".modal .modal-footer button[name='action_log']",
                run: "click",
            },
            {
                content: "The call and the promise are in the customer's chatter",
                trigger: ".o-mail-Message:contains('Promise made'):contains('900.00')",
            },
        ];
    },
});
