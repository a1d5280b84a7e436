/** @odoo-module **/
// Tour of tests/test_worker_secret_tour.py: an administrator generates a worker token and an Odoo
// API key from the worker form and sees each one in the show-once dialog (no Access Error), then
// finds the key in the worker's list of integration keys and revokes it.
import { queryAll, queryOne } from "@odoo/hoot-dom";
import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";

function noErrorDialog() {
    if (queryAll(".o_error_dialog").length) {
        throw new Error(`error dialog: ${queryOne(".o_error_dialog").textContent}`);
    }
}

async function storedToken() {
    const [worker] = await rpc("/web/dataset/call_kw/workshop.worker/search_read", {
        model: "workshop.worker",
        method: "search_read",
        args: [[["worker_uid", "=", "wk-tour"]], ["token"]],
        kwargs: {},
    });
    return worker.token;
}

function generateAndShow(buttonName, title, check) {
    return [
        {
            content: `Click ${title}`,
            trigger: `.o_form_view button[name=${buttonName}]`,
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer button.btn-primary:contains(Ok)",
            run: "click",
        },
        {
            content: "The show-once dialog displays the secret",
            trigger: ".modal .o_field_widget[name=secret]",
            async run() {
                noErrorDialog();
                const secret = queryOne(".modal .o_field_widget[name=secret]").textContent.trim();
                if (secret.length < 40) {
                    throw new Error(`secret shown: "${secret}"`);
                }
                await check(secret);
            },
        },
        {
            content: "Close the dialog",
            trigger: ".modal button:contains(Done)",
            run: "click",
        },
        {
            content: "Back on the worker form",
            trigger: "body:not(:has(.modal))",
            run: noErrorDialog,
        },
    ];
}

registry.category("web_tour.tours").add("workshop_iot_worker_secret", {
    steps: () => [
        ...generateAndShow("action_generate_token", "Generate worker token", async (secret) => {
            if (secret !== (await storedToken())) {
                throw new Error("the token shown is not the token stored");
            }
        }),
        // The key is stored hashed: the test checks on the server that exactly one was created.
        ...generateAndShow("action_generate_api_key", "Generate Odoo API key", async () => {}),
        {
            content: "The new key is listed on the worker form: revoke it",
            trigger: ".o_field_widget[name=api_key_ids] .o_data_row:contains(workshop_iot wk-tour) button[name=remove]",
            run: "click",
        },
        {
            content: "Odoo asks for the password before removing a key",
            trigger: ".modal [name=password] input",
            run: "edit admin",
        },
        {
            content: "Confirm",
            trigger: ".modal button:contains(Confirm Password)",
            run: "click",
        },
        {
            content: "The key is gone from the list",
            trigger: "body:not(:has(.modal)) .o_field_widget[name=api_key_ids]:not(:has(.o_data_row))",
            run: noErrorDialog,
        },
    ],
});
