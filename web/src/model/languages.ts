/**
 * The worker's own page speaks the browser's language: German for any `de*` language tag, English
 * otherwise. (Inside Odoo the dashboard takes its labels from Odoo's `_t` and the user's language.)
 * The German words are those of the addon's de.po, so a workshop sees the same terms on both pages
 * (web/test/unit/languages.test.ts checks it).
 */
import { type DashboardLabels, DEFAULT_LABELS } from './labels.ts';

export type PageLanguage = 'en' | 'de';

export const GERMAN_LABELS: DashboardLabels = {
  title: 'Maschinen',
  states: {
    idle: 'Inaktiv',
    starting: 'Startet',
    standby: 'Standby',
    working: 'Arbeitet',
    stopping: 'Stoppt',
    offline: 'Offline',
    unknown: 'Unbekannt',
  },
  all: 'Alle',
  filterByState: 'Nach Status filtern',
  groupByArea: 'Nach Bereich gruppieren',
  noArea: 'Kein Bereich',
  kiosk: 'Vollbild',
  exitKiosk: 'Vollbild verlassen',
  power: 'Leistung',
  session: 'Nutzungsdauer',
  noSession: 'Keine Nutzung',
  todayWorking: 'Arbeit heute',
  todayStandby: 'Standby heute',
  lastSeen: 'Zuletzt gesehen',
  never: 'nie',
  online: 'Live',
  offline: 'Verbindung unterbrochen, verbinde neu …',
  loading: 'Maschinen werden geladen …',
  loadFailed: 'Die Maschinen konnten nicht geladen werden',
  noMachinesMatch: 'Keine Maschine entspricht diesem Filter.',
  noMachinesYet: 'Noch keine Maschinen',
  firstMachineHelp:
    'Dieser Worker hat keine Maschinen. Mit Odoo fügen Sie sie unter Werkstatt > Konfiguration > ' +
    'Maschinen hinzu (Worker: dieser): Odoo schickt sie hierher. Ohne Odoo tragen Sie sie unter ' +
    '"devices" in die Einstellungsdatei des Workers ein (siehe workshop-iot.example.json) und ' +
    'starten den Worker neu. Eine Kachel wird lebendig, sobald ihr Zähler seine erste Nachricht sendet.',
  addMachine: 'Maschine hinzufügen',
  noDataSince: 'Keine Daten seit',
  openSessions: 'Nutzungen öffnen von',
  onMachine: 'An der Maschine:',
  claim: 'Nutzung zuordnen',
  claimAsMyself: 'Das bin ich',
  claimTitle: 'Wer nutzt',
  searchMember: 'Name oder Karte',
  noMemberFound: 'Kein Mitglied gefunden',
  claiming: 'Wird zugeordnet …',
  claimedFor: 'Nutzung zugeordnet an',
  close: 'Schließen',
};

/** The browser tab's title per language (the page's <title> is the English one). */
export const PAGE_TITLES: Record<PageLanguage, string> = {
  en: 'Workshop IoT — machines',
  de: 'Workshop IoT — Maschinen',
};

/** `navigator.language` (a BCP 47 tag such as `de-AT`) to the page's language. */
export function pageLanguage(tag: string | undefined): PageLanguage {
  return /^de(?:-|$)/i.test(tag ?? '') ? 'de' : 'en';
}

export function labelsFor(language: PageLanguage): DashboardLabels {
  return language === 'de' ? GERMAN_LABELS : DEFAULT_LABELS;
}
