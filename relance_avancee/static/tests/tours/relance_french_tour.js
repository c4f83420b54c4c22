import { registry } from "@web/core/registry";

// A French accountant's day, in the French interface (see
// TestRelanceFrenchAccountantTour in tests/test_relance_tours.py for the
// ledger): Boulangerie Lefèvre owes 640,00 - 200,00 + 395,50 = 835,50, due
// 35 days ago; its scenario is at the ultimatum email and the reminder letter.
// Every label is read in French, every figure in the French format.
const CUSTOMER = "Boulangerie Lefèvre";
const OVERDUE = "835,50";

registry.category("web_tour.tours").add("relance_french_accountant_day", {
    steps: () => [
        // The worklist
        {
            content: "The worklist opens, in French",
            trigger: ".o_last_breadcrumb_item:contains('Clients à relancer')",
        },
        {
            content: "Its columns are in French",
            trigger:
                ".o_list_view th[data-name='amount_overdue']:contains('En retard') ~ th[data-name='days_overdue']:contains('Jours de retard')",
        },
        {
            content: "The customer owes 835,50, 35 days late",
            trigger: `.o_list_view .o_data_row:has(td[name='partner_id']:contains('${CUSTOMER}')):has(td[name='amount_overdue']:contains('${OVERDUE}')):has(td[name='days_overdue']:contains(/^\\s*35\\s*$/))`,
        },
        {
            content: "Open the customer",
            trigger: `.o_list_view .o_data_row:contains('${CUSTOMER}') button[name='action_open_partner']`,
            run: "click",
        },
        // The customer's Dunning tab
        {
            content: "The customer's form is open",
            trigger: `.o_last_breadcrumb_item:contains('${CUSTOMER}')`,
        },
        {
            content: "Open its Dunning tab, « Relances »",
            trigger: ".o_form_view .o_notebook .nav-link:contains('Relances')",
            run: "click",
        },
        {
            content: "The tab shows the overdue total, in French",
            trigger: `.o_form_view .o_inner_group:has(label:contains('Total échu')) .o_field_widget[name='relance_total_overdue']:contains('${OVERDUE}')`,
        },
        {
            content: "...the last step done, the phone call",
            trigger:
                ".o_form_view .o_inner_group:has(label:contains('Dernière étape')) .o_field_widget[name='relance_last_level_id']:contains('Appel téléphonique')",
        },
        {
            content: "...and what comes next: the ultimatum",
            trigger:
                ".o_form_view .o_field_widget[name='relance_next_step']:contains('Dernier avis le ')",
        },
        // The preview, then sending
        {
            content: "Preview the customer's reminders",
            trigger:
                ".o_form_view button[name='action_relance_preview']:contains('Aperçu des relances')",
            run: "click",
        },
        {
            content: "The preview opens, in French",
            trigger: ".modal .modal-title:contains('Aperçu des relances')",
        },
        {
            content: "Its header counts the 835,50 once, for two lines",
            trigger: `.modal .o_inner_group:has(label:contains('Montant dû')) .o_field_widget[name='amount_total']:contains('${OVERDUE}')`,
        },
        {
            content: "...two lines kept",
            trigger:
                ".modal .o_inner_group:has(label:contains('Lignes retenues')) .o_field_widget[name='line_count']:contains(/^\\s*2\\s*$/)",
        },
        {
            content: "The ultimatum email, for 835,50",
            trigger: `.modal .o_data_row:has(td[name='level_id']:contains('Dernier avis')):has(td[name='amount']:contains('${OVERDUE}'))`,
        },
        {
            content: "The reminder letter, for 835,50",
            trigger: `.modal .o_data_row:has(td[name='level_id']:contains('Lettre de relance')):has(td[name='amount']:contains('${OVERDUE}'))`,
        },
        {
            content: "Send now",
            trigger: ".modal .modal-footer button[name='action_send']:contains('Envoyer maintenant')",
            run: "click",
        },
        {
            content: "Confirm, in French",
            trigger:
                ".modal:contains('Envoyer maintenant les lignes cochées') .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The result: the email sent, the letter to print",
            trigger:
                ".modal .o_field_widget[name='result']:contains('2 communication(s) : 1 envoyée(s), 1 à traiter')",
        },
        {
            content: "Close the preview",
            trigger: ".modal .modal-footer button:contains('Fermer')",
            run: "click",
        },
        // The day's letters
        {
            content: "Open the Customers menu",
            trigger: ".o_menu_sections [data-menu-xmlid='account.menu_finance_receivables']",
            run: "click",
        },
        {
            content: "...then Letters to print, « Lettres à imprimer »",
            trigger:
                ".dropdown-item[data-menu-xmlid='relance_avancee.relance_communication_print_menu']:contains('Lettres à imprimer')",
            run: "click",
        },
        {
            content: "The letter waits, to do, for 835,50",
            trigger: `.o_list_view .o_data_row:has(td[name='partner_id']:contains('${CUSTOMER}')):has(td[name='level_id']:contains('Lettre de relance')):has(td[name='state']:contains('À faire')):has(td[name='amount_total']:contains('${OVERDUE}'))`,
        },
        {
            content: "Print the day's letters",
            trigger:
                ".o_control_panel button[name='action_open_print_wizard']:contains('Imprimer les lettres…')",
            run: "click",
        },
        {
            content: "One letter to print, one to send",
            trigger:
                ".modal .o_inner_group:has(label:contains('Lettres à imprimer')) .o_field_widget[name='letter_count']:contains(/^\\s*1\\s*$/)",
        },
        {
            content: "...the customer's, for 835,50",
            trigger: `.modal .o_field_widget[name='communication_ids'] .o_data_row:contains('${CUSTOMER}'):contains('${OVERDUE}')`,
        },
        {
            content: "Print",
            trigger: ".modal .modal-footer button[name='action_print']:contains('Imprimer')",
            run: "click",
        },
        {
            content: "One letter printed into one document",
            trigger:
                ".modal .o_inner_group:has(label:contains('Lettres imprimées')) .o_field_widget[name='printed_count']:contains(/^\\s*1\\s*$/)",
        },
        {
            content: "Confirm the letters were printed and posted",
            trigger:
                ".modal .modal-footer button[name='action_confirm']:contains('Confirmer que les lettres ont été imprimées et postées')",
            run: "click",
        },
        {
            content: "The list reloads: no letter left to print",
            trigger: ".o_view_nocontent:contains('Aucune lettre à imprimer')",
        },
    ],
});
