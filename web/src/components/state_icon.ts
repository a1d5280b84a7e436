/**
 * One SVG icon per machine state, drawn inline so it looks the same in Odoo and on the worker's
 * page (no icon font needed). Always decorative: the state's text stands next to it.
 */
import { Component, xml } from '@odoo/owl';
import type { DeviceState } from '../data/machine.ts';

type IconName = DeviceState | 'all' | 'expand' | 'collapse';

/** 24x24 paths; `stroke` icons are outlines, the others are filled shapes. */
const ICONS: Record<IconName, { d: string; stroke: boolean }> = {
  working: { d: 'M8 4.5v15l12-7.5z', stroke: false },
  standby: { d: 'M6.5 5h4v14h-4zM13.5 5h4v14h-4z', stroke: false },
  idle: { d: 'M12 3v8M6.6 6.6a7.6 7.6 0 1 0 10.8 0', stroke: true },
  starting: { d: 'M12 3.5l7.5 8.5H15v8.5H9V12H4.5z', stroke: false },
  stopping: { d: 'M12 20.5L4.5 12H9V3.5h6V12h4.5z', stroke: false },
  offline: { d: 'M12 2.5a9.5 9.5 0 1 0 0 19a9.5 9.5 0 1 0 0-19M8 8l8 8M16 8l-8 8', stroke: true },
  unknown: { d: 'M8.8 9a3.3 3.3 0 1 1 4.8 2.9c-1 .5-1.6 1.3-1.6 2.4v.7M12 18.5v.1', stroke: true },
  all: { d: 'M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z', stroke: false },
  expand: { d: 'M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5', stroke: true },
  collapse: { d: 'M9 4v5H4M20 9h-5V4M15 20v-5h5M4 15h5v5', stroke: true },
};

export class StateIcon extends Component<{ name: IconName }> {
  static override props = { name: String };
  static override template = xml`
    <svg class="o_workshop_iot_icon" viewBox="0 0 24 24" width="24" height="24"
         aria-hidden="true" focusable="false">
      <path t-att-d="icon.d" t-att-fill="icon.stroke ? 'none' : 'currentColor'"
            t-att-stroke="icon.stroke ? 'currentColor' : 'none'" stroke-width="2.2"
            stroke-linecap="round" stroke-linejoin="round"/>
    </svg>`;

  get icon(): { d: string; stroke: boolean } {
    return ICONS[this.props.name] ?? ICONS.unknown;
  }
}
