import { registry } from "@web/core/registry";

// A customer, not logged in, opens the link of a reminder email: the page
// lists the invoices of that reminder; the customer promises to pay part of
// them by the date the page suggests, and the page thanks them for it.
registry.category("web_tour.tours").add("relance_portal_promise", {
    steps: () => [
        {
            content: "The page greets the customer of the reminder",
            trigger: ".o_relance_portal_intro:contains('Client Portail')",
        },
        {
            content: "It lists the reminded invoice with its PDF",
            trigger: ".o_relance_portal_invoices tr:contains('1,500.00') .o_relance_portal_pdf",
        },
        {
            content: "Enter the amount promised",
            trigger: "form.o_relance_portal_promise input[name='amount']",
            run: "edit 500",
        },
        {
            content: "I will pay on the date suggested",
            trigger: "form.o_relance_portal_promise button[type='submit']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The page thanks the customer",
            trigger: ".o_relance_portal_success",
        },
        {
            content: "...and shows the promise recorded",
            trigger: ".o_relance_portal_open_promise:contains('500.00')",
        },
    ],
});
