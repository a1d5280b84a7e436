/**
 * The dashboard's strings through Odoo's `_t`, written as literals so Odoo's translation export
 * (which scans the asset files for `_t("…")`) picks each of them up.
 *
 * Odoo 18 merges the `_t` translations of every installed module into ONE dictionary keyed by the
 * English text, so a msgid another module translates differently shows that module's German (with
 * Odoo's spreadsheet, "Power" became "Motorleistung"). Hence specific msgids ("Power draw",
 * "Session time", "Claim session"), the state names from the model's selection (translated per
 * field, see `stateNames`), and TestTranslationFiles, which fails on any such clash.
 */
import { _t } from '@web/core/l10n/translation';
import type { DeviceState } from '../data/machine.ts';
import type { OrmService } from '../data/odoo-services.ts';
import type { DashboardLabels } from '../model/labels.ts';

/**
 * `canAddMachines`: the viewer is a workshop manager, who gets the steps to add the first machine
 * (and a button); a plain workshop user is asked to turn to a manager. `states`: the names of the
 * machine states in the user's language, from the server (`stateNames`).
 */
export function odooLabels(
  canAddMachines: boolean,
  states: Record<DeviceState, string>,
): DashboardLabels {
  return {
    title: _t('Machines'),
    states,
    all: _t('All'),
    filterByState: _t('Filter by state'),
    groupByArea: _t('Group by area'),
    noArea: _t('No area'),
    kiosk: _t('Full screen'),
    exitKiosk: _t('Exit full screen'),
    power: _t('Power draw'),
    session: _t('Session time'),
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
    claim: _t('Claim session'),
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

/**
 * The machine states as `workshop.device.live_state` names them, in the user's language: a
 * selection's labels are translated per field, never merged with other modules' terms.
 */
export async function stateNames(orm: OrmService): Promise<Record<DeviceState, string>> {
  const fields = await orm.call<{ live_state: { selection: [DeviceState, string][] } }>(
    'workshop.device',
    'fields_get',
    [['live_state']],
    { attributes: ['selection'] },
  );
  return Object.fromEntries(fields.live_state.selection) as Record<DeviceState, string>;
}
