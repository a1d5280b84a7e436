/** @odoo-module **/
// A multi-line text shown as is (a settings file, .env lines) with a copy button: Odoo 18 has copy
// widgets for char and URL fields only. Used by "Connect a worker" (workshop.worker.connect).
import { Component, xml } from "@odoo/owl";
import { CopyButton } from "@web/core/copy_button/copy_button";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

export class CopyTextField extends Component {
    static template = xml`
        <div class="d-flex align-items-start gap-2 o_wiot_copy_text">
            <pre class="flex-grow-1 mb-0 p-2 bg-light border rounded text-break" style="white-space: pre-wrap;" t-esc="props.record.data[props.name] or ''"/>
            <CopyButton className="'btn-sm btn-secondary'" content="props.record.data[props.name]" copyText="copyText" successText="successText"/>
        </div>`;
    static components = { CopyButton };
    static props = { ...standardFieldProps };

    setup() {
        this.copyText = _t("Copy");
        this.successText = _t("Copied");
    }
}

registry.category("fields").add("workshop_iot_copy_text", {
    component: CopyTextField,
    supportedTypes: ["text"],
});
