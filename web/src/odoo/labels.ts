/**
 * The dashboard's strings through Odoo's `_t`, written as literals so Odoo's translation export
 * (which scans the asset files for `_t("…")`) picks each of them up.
 */
import { _t } from '@web/core/l10n/translation';
import type { DashboardLabels } from '../model/labels.ts';

/**
 * `canAddMachines`: the viewer is a workshop manager, who gets the steps to add the first machine
 * (and a button); a plain workshop user is asked to turn to a manager.
 */
export function odooLabels(canAddMachines: boolean): DashboardLabels {
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
    noMachinesMatch: _t('No machines match this filter.'),
    noMachinesYet: _t('No machines yet'),
    firstMachineHelp: canAddMachines
      ? _t(
          'Add your first machine in Workshop > Configuration > Machines > New: its name, the device id and MQTT topic of its meter, and the worker that listens to it. Its tile shows here at once and comes alive when that worker is connected to Odoo and hears from the meter.',
        )
      : _t(
          'No machines are set up yet. Ask a Workshop manager to add them (Workshop > Configuration > Machines) and to connect a worker: their tiles then show here.',
        ),
    addMachine: _t('Add a machine'),
    noDataSince: _t('No data since'),
    openSessions: _t('Open the sessions of'),
    onMachine: _t('On the machine:'),
    claim: _t('Claim'),
    claimAsMyself: _t('This is me'),
    claimTitle: _t('Who is using'),
    searchMember: _t('Name or card'),
    noMemberFound: _t('No member found'),
    claiming: _t('Claiming…'),
    claimedFor: _t('Session claimed for'),
    close: _t('Close'),
  };
}

/** Title of the sessions list opened from a tile. */
export function sessionsOfLabel(machineName: string): string {
  return _t('Sessions of %s', machineName);
}
