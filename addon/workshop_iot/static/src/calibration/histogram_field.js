/** @odoo-module **/
// The power histogram of the Calibrate dialog (models/workshop_device_calibration.py): the worker's
// log-spaced bins as bars (hours spent in each power band), with the current thresholds dashed and
// the proposed ones solid. The proposed lines follow the edited values at once, before a re-run.
// Chart.js is Odoo's own (bundle web.chartjs_lib), loaded lazily as the graph view does.
import { Component, onWillStart, onWillUnmount, useEffect, useRef, xml } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

const LINES = [
    { field: "current_standby_threshold_w", color: "#6c757d", dash: [6, 4] },
    { field: "current_working_threshold_w", color: "#343a40", dash: [6, 4] },
    { field: "proposed_standby_threshold_w", color: "#17a2b8", dash: [] },
    { field: "proposed_working_threshold_w", color: "#e67e22", dash: [] },
];

/** Position of `watts` on the category axis, in bins from the left edge (log inside a bin). */
export function binPosition(bins, watts) {
    for (let i = 0; i < bins.length; i++) {
        const { from_w: low, to_w: high } = bins[i];
        if (watts < high || i === bins.length - 1) {
            if (watts <= low) {
                return i;
            }
            const frac = low > 0 ? Math.log(watts / low) / Math.log(high / low) : watts / high;
            return i + Math.min(Math.max(frac, 0), 1);
        }
    }
    return 0;
}

function formatWatts(value) {
    return value >= 100 ? String(Math.round(value)) : String(Math.round(value * 10) / 10);
}

export class HistogramField extends Component {
    static template = xml`
        <div class="o_workshop_iot_histogram" style="position: relative; height: 280px; width: 100%;">
            <canvas t-ref="canvas"/>
        </div>`;
    static props = { ...standardFieldProps };

    setup() {
        this.canvasRef = useRef("canvas");
        this.chart = null;
        onWillStart(() => loadBundle("web.chartjs_lib"));
        useEffect(
            () => this.draw(),
            () => [this.props.record.data[this.props.name], ...LINES.map((l) => this.props.record.data[l.field])],
        );
        onWillUnmount(() => this.chart?.destroy());
    }

    get thresholds() {
        const data = this.props.record.data;
        const labels = {
            current_standby_threshold_w: _t("Standby now"),
            current_working_threshold_w: _t("Working now"),
            proposed_standby_threshold_w: _t("Standby proposed"),
            proposed_working_threshold_w: _t("Working proposed"),
        };
        return LINES.map((line) => ({ ...line, value: data[line.field], label: labels[line.field] }));
    }

    draw() {
        this.chart?.destroy();
        this.chart = null;
        const bins = this.props.record.data[this.props.name]?.bins || [];
        if (!bins.length || !this.canvasRef.el) {
            return;
        }
        const thresholds = this.thresholds;
        const thresholdLines = {
            id: "workshop_iot_thresholds",
            afterDatasetsDraw(chart) {
                const { ctx, chartArea } = chart;
                const width = (chartArea.right - chartArea.left) / bins.length;
                ctx.save();
                thresholds.forEach((line, index) => {
                    if (!(line.value > 0)) {
                        return;
                    }
                    const x = chartArea.left + binPosition(bins, line.value) * width;
                    ctx.strokeStyle = line.color;
                    ctx.fillStyle = line.color;
                    ctx.lineWidth = 2;
                    ctx.setLineDash(line.dash);
                    ctx.beginPath();
                    ctx.moveTo(x, chartArea.top);
                    ctx.lineTo(x, chartArea.bottom);
                    ctx.stroke();
                    ctx.font = "11px sans-serif";
                    ctx.fillText(`${line.label} ${formatWatts(line.value)} W`, x + 3, chartArea.top + 12 + index * 13);
                });
                ctx.restore();
            },
        };
        this.chart = new window.Chart(this.canvasRef.el, {
            type: "bar",
            data: {
                labels: bins.map((bin) => `${formatWatts(bin.from_w)}–${formatWatts(bin.to_w)} W`),
                datasets: [
                    {
                        label: _t("Hours at this power"),
                        data: bins.map((bin) => bin.seconds / 3600),
                        backgroundColor: "rgba(113, 75, 103, 0.6)",
                        categoryPercentage: 1,
                        barPercentage: 0.95,
                    },
                ],
            },
            options: {
                maintainAspectRatio: false,
                animation: false,
                scales: {
                    x: { title: { display: true, text: _t("Power (W, log scale)") } },
                    y: { beginAtZero: true, title: { display: true, text: _t("Hours") } },
                },
                plugins: { legend: { display: false } },
            },
            plugins: [thresholdLines],
        });
    }
}

registry.category("fields").add("workshop_iot_histogram", {
    component: HistogramField,
    supportedTypes: ["json"],
    fieldDependencies: LINES.map((line) => ({ name: line.field, type: "float" })),
});
