/** @odoo-module **/
// Tour of tests/test_connect_worker_tour.py: "Connect a worker" from the Workers list, as an
// administrator. Step 2 must show the token and the API key inside a valid settings file and the
// .env lines; step 3 must no longer contain them and must turn green on the worker's first hello,
// which the test sends over HTTP once this tour prints that it waits (with the key it was shown).
import { queryAll, queryOne } from "@odoo/hoot-dom";
import { registry } from "@web/core/registry";

const shown = {};

function noErrorDialog() {
    if (queryAll(".o_error_dialog").length) {
        throw new Error(`error dialog: ${queryOne(".o_error_dialog").textContent}`);
    }
}

function fieldText(name) {
    // The text of the field itself, not its copy button's label.
    const widget = queryOne(`.modal .o_field_widget[name=${name}]`);
    return (widget.querySelector("pre, span") || widget).textContent.trim();
}

registry.category("web_tour.tours").add("workshop_iot_connect_worker", {
    steps: () => [
        {
            content: "Connect a worker from the Workers list",
            trigger: ".o_control_panel button:contains(Connect a worker)",
            run: "click",
        },
        {
            content: "Step 1: name the worker",
            trigger: ".modal .o_wiot_connect_step1 .o_field_widget[name=name] input",
            run: "edit Tour bench && press Tab",
        },
        {
            content: "The worker uid is derived from the name",
            trigger: ".modal .o_field_widget[name=worker_uid] input:value(tour-bench)",
        },
        {
            content: "Create it and show the settings",
            trigger: ".modal button[name=action_create_worker]",
            run: "click",
        },
        {
            content: "Step 2: token, API key, settings file and .env lines, values filled in",
            trigger: ".modal .o_wiot_connect_step2 .o_field_widget[name=api_key]",
            run() {
                noErrorDialog();
                shown.token = fieldText("token");
                shown.key = fieldText("api_key");
                if (shown.token.length < 40 || shown.key.length < 20) {
                    throw new Error(`secrets shown: "${shown.token}", "${shown.key}"`);
                }
                const settings = JSON.parse(fieldText("settings_file"));
                if (
                    settings.worker_uid !== "tour-bench" ||
                    settings.http.token !== shown.token ||
                    settings.odoo.api_key !== shown.key ||
                    !settings.odoo.url.startsWith("http")
                ) {
                    throw new Error(`settings file: ${fieldText("settings_file")}`);
                }
                const env = fieldText("env_lines");
                for (const line of ["WORKER_UID=tour-bench", `WORKER_TOKEN=${shown.token}`, `ODOO_API_KEY=${shown.key}`]) {
                    if (!env.includes(line)) {
                        throw new Error(`.env lines without ${line}: ${env}`);
                    }
                }
                if (queryAll(".modal .o_clipboard_button").length < 4) {
                    throw new Error("a copy button for each of the four values");
                }
            },
        },
        {
            content: "Move on to waiting for the worker",
            trigger: ".modal button[name=action_wait]",
            run: "click",
        },
        {
            content: "Step 3: waiting, the secrets are gone from the page",
            trigger: ".modal .o_wiot_connect_step3 .o_wiot_worker_waiting",
            run() {
                noErrorDialog();
                const html = document.body.innerHTML;
                if (html.includes(shown.key) || html.includes(shown.token)) {
                    throw new Error("a secret is still on the page after step 2");
                }
                // The test's worker says hello with this key (test_connect_worker_tour.py, WAITING).
                console.info(`workshop_iot connect tour: waiting for tour-bench with key ${shown.key}`);
            },
        },
        {
            content: "The worker said hello: green, without a reload",
            trigger: ".modal .o_wiot_worker_connected",
            timeout: 30000,
            run: noErrorDialog,
        },
        {
            content: "Open the worker",
            trigger: ".modal button[name=action_open_worker]",
            run: "click",
        },
        {
            content: "The worker is online",
            trigger: "body:not(:has(.modal)) .o_form_view .o_field_widget[name=status]:contains(Online)",
            run: noErrorDialog,
        },
    ],
});
