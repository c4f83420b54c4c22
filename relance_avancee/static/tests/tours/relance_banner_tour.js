import { registry } from "@web/core/registry";

// A salesperson opens one of their customers: the overdue banner is there,
// with its amount, and leads to the customer's reminder history.
registry.category("web_tour.tours").add("relance_banner_own_customer", {
    steps: () => [
        {
            content: "The customer's form is open",
            trigger: ".o_last_breadcrumb_item:contains('Client Tour Un')",
        },
        {
            content: "The banner says how much is overdue",
            trigger: ".o_form_view .o_relance_banner:contains('4,321.00'):contains('days late')",
        },
        {
            content: "Open the reminder history from the banner",
            trigger: ".o_relance_banner button[name='action_relance_banner_history']",
            run: "click",
        },
        {
            content: "The history lists the customer's reminders",
            trigger: ".o_list_view .o_data_row:contains('First reminder')",
        },
    ],
});

// The same salesperson opens another salesperson's customer: no banner.
registry.category("web_tour.tours").add("relance_banner_other_customer", {
    steps: () => [
        {
            content: "The other salesperson's customer is open",
            trigger: ".o_last_breadcrumb_item:contains('Client Tour Deux')",
        },
        {
            content: "Its form has loaded its Dunning tab",
            trigger: ".o_form_view .o_notebook a:contains('Dunning')",
            run: "click",
        },
        {
            content: "Nothing of its receivables: no banner, no amounts",
            trigger:
                ".o_form_view:not(:has(.o_relance_banner)):not(:has([name='relance_total_overdue']))",
        },
    ],
});

// A dunning manager opens the KPI dashboard: its figures are there, and the
// aged balance opens as a pivot table. The ledger (see test_relance_tours.py):
// one invoice of 1,000.00 dated 30 days ago, due 10 days ago, unpaid. Over the
// default period (the three months ending today, D days): DSO = 1,000 / 1,000
// x D = D; average days late = 10; 1,000.00 in the 1-30 days bucket.
registry.category("web_tour.tours").add("relance_kpi_dashboard", {
    steps: () => {
        const today = luxon.DateTime.local().startOf("day");
        const days = today.diff(today.minus({ months: 3 }), "days").days;
        return [
            {
                content: "The dashboard shows the DSO of the period",
                trigger: `.o_form_view .o_field_widget[name='dso']:contains('${days.toFixed(2)}')`,
            },
            {
                content: "...the amount-weighted average days late",
                trigger: ".o_form_view .o_field_widget[name='avg_days_late']:contains('10.00')",
            },
            {
                content: "...and the aged balance",
                trigger: ".o_form_view .o_field_widget[name='aged_1_30']:contains('1,000.00')",
            },
            {
                content: "Open the aged balance",
                trigger: ".o_form_view button[name='action_open_aged']",
                run: "click",
            },
            {
                content: "The aged balance opens as a pivot of the receivables",
                trigger: ".o_pivot_view .o_pivot_cell_value:contains('1,000.00')",
            },
        ];
    },
});

// A collector marks the phone call done in the customer's chatter: the form
// shows at once what comes next, not "waiting to be done".
registry.category("web_tour.tours").add("relance_call_done_refreshes_the_form", {
    steps: () => [
        {
            content: "Open the customer's Dunning tab",
            trigger: ".o_form_view .o_notebook .nav-link:contains('Dunning')",
            run: "click",
        },
        {
            content: "The scenario waits for the call",
            trigger: ".o_form_view .o_field_widget[name='relance_next_step']:contains('waiting to be done')",
        },
        {
            content: "Mark the call done in the chatter",
            trigger: ".o-mail-Activity:contains('Phone call') .o-mail-Activity-markDone",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".o-mail-ActivityMarkAsDone button[aria-label='Done']",
            run: "click",
        },
        {
            content: "The next step shows at once",
            trigger: ".o_form_view .o_field_widget[name='relance_next_step']:not(:contains('waiting'))",
        },
    ],
});
