/**
 * The dashboard's strings through Odoo's `_t`, written as literals so Odoo's translation export
 * (which scans the asset files for `_t("…")`) picks each of them up.
 */
import { _t } from '@web/core/l10n/translation';
import type { DashboardLabels } from '../model/labels.ts';

export function odooLabels(): DashboardLabels {
  return {
    title: _t('Machines'),
    states: {
      idle: _t('Idle'),
      starting: _t('Starting'),
      standby: _t('Standby'),
      working: _t('Working'),
      stopping: _t('Stopping'),
      offline: _t('Offline'),
      unknown: _t('Unknown'),
    },
    all: _t('All'),
    filterByState: _t('Filter by state'),
    groupByArea: _t('Group by area'),
    noArea: _t('No area'),
    kiosk: _t('Full screen'),
    exitKiosk: _t('Exit full screen'),
    power: _t('Power'),
    session: _t('Session'),
    noSession: _t('No session'),
    todayWorking: _t('Working today'),
    todayStandby: _t('Standby today'),
    lastSeen: _t('Last seen'),
    never: _t('never'),
    online: _t('Live'),
    offline: _t('Connection lost, reconnecting…'),
    loading: _t('Loading machines…'),
    loadFailed: _t('Could not load the machines'),
    noMachines: _t('No machines match this filter.'),
    openSessions: _t('Open the sessions of'),
  };
}

/** Title of the sessions list opened from a tile. */
export function sessionsOfLabel(machineName: string): string {
  return _t('Sessions of %s', machineName);
}
