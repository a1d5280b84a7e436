/**
 * Durations in Odoo's own views, in the dashboard's format (`formatDuration`, H:MM:SS):
 *   - field widget `workshop_duration` for lists and forms; the value is in hours (the sessions'
 *     `*_hours` fields, whose list sums stay exact) or, with `options="{'unit': 's'}"`, in seconds
 *     (the worker's uptime and oldest pending event);
 *   - formatter `workshop_duration` (hours) for pivot cells and graph axes and tooltips, where
 *     Odoo's `float_time` drops the seconds and repeats the same minute on every y-axis tick.
 */
import { Component, xml } from '@odoo/owl';
import { registry } from '@web/core/registry';
import { formatDuration } from '../model/format.ts';

export const DURATION_WIDGET = 'workshop_duration';

/** Hours (Odoo's float_time unit, summed by lists, pivots and graphs) to H:MM:SS. */
export function formatHours(hours: number | false): string {
  return hours === false ? '' : formatDuration(hours * 3600);
}

interface DurationFieldProps {
  name: string;
  record: { data: Record<string, number | false> };
  unit: 'h' | 's';
}

export class DurationField extends Component<DurationFieldProps> {
  static override props = ['*'];
  static override template = xml`<span class="o_workshop_iot_duration" t-esc="formatted"/>`;

  get formatted(): string {
    const value = this.props.record.data[this.props.name] ?? false;
    if (value === false) return '';
    return this.props.unit === 's' ? formatDuration(value) : formatHours(value);
  }
}

registry.category('fields').add(DURATION_WIDGET, {
  component: DurationField,
  displayName: 'Duration (H:MM:SS)',
  supportedTypes: ['float'],
  extractProps: ({ options }: { options: { unit?: string } }) => ({
    unit: options.unit === 's' ? 's' : 'h',
  }),
});
registry.category('formatters').add(DURATION_WIDGET, formatHours);
