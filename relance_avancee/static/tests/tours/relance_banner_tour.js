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
