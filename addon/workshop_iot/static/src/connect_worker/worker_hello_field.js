/** @odoo-module **/
// Step 3 of "Connect a worker" (models/workshop_worker_connect.py): "Waiting for the worker…" until
// the worker's first worker.hello, then green. It polls the worker's last hello once a second
// (silent RPC, no loading indicator) and stops once it is there: the dialog never reloads.
import { Component, onMounted, onWillStart, onWillUnmount, useState, xml } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

const POLL_MS = 1000;

export class WorkerHelloField extends Component {
    static template = xml`
        <div class="o_wiot_worker_hello">
            <div t-if="state.helloAt" class="alert alert-success o_wiot_worker_connected" role="status">
                <i class="fa fa-check-circle me-2"/>Connected: the worker said hello at <t t-esc="state.helloAt"/>.
            </div>
            <div t-else="" class="alert alert-info o_wiot_worker_waiting" role="status">
                <i class="fa fa-circle-o-notch fa-spin me-2"/>Waiting for the worker…
            </div>
        </div>`;
    static props = { ...standardFieldProps };

    setup() {
        this.orm = useService("orm");
        this.state = useState({ helloAt: null });
        onWillStart(() => this.poll());
        // Started once mounted, so a component destroyed before mounting leaves no timer behind.
        onMounted(() => {
            this.timer = browser.setInterval(() => this.poll(), POLL_MS);
        });
        onWillUnmount(() => browser.clearInterval(this.timer));
    }

    get workerId() {
        const value = this.props.record.data[this.props.name];
        return Array.isArray(value) ? value[0] : value?.id;
    }

    async poll() {
        if (this.state.helloAt || !this.workerId) {
            return;
        }
        const [worker] = await this.orm.silent.read("workshop.worker", [this.workerId], ["last_hello_at"]);
        if (worker?.last_hello_at) {
            this.state.helloAt = formatDateTime(deserializeDateTime(worker.last_hello_at));
            browser.clearInterval(this.timer);
        }
    }
}

registry.category("fields").add("workshop_iot_worker_hello", {
    component: WorkerHelloField,
    supportedTypes: ["many2one"],
});
