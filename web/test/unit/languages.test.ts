import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LABELS } from '../../src/model/labels.ts';
import { GERMAN_LABELS, labelsFor, PAGE_TITLES, pageLanguage } from '../../src/model/languages.ts';

/** msgid -> msgstr of a .po file (enough of the format for our own, msgmerge-written files). */
function readPo(path: string): Map<string, string> {
  const entries = new Map<string, string>();
  const unquote = (line: string) => JSON.parse(line.replace(/^(msgid|msgstr) /, '')) as string;
  let field: 'msgid' | 'msgstr' | null = null;
  let msgid = '';
  let msgstr = '';
  const flush = () => {
    if (msgid) entries.set(msgid, msgstr);
    msgid = '';
    msgstr = '';
  };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('msgid ')) {
      flush();
      field = 'msgid';
      msgid = unquote(line);
    } else if (line.startsWith('msgstr ')) {
      field = 'msgstr';
      msgstr = unquote(line);
    } else if (line.startsWith('"') && field === 'msgid') msgid += JSON.parse(line);
    else if (line.startsWith('"') && field === 'msgstr') msgstr += JSON.parse(line);
    else field = null;
  }
  flush();
  return entries;
}

/** Every label as [path, text], states included. */
function flat(labels: object, prefix = ''): [string, string][] {
  return Object.entries(labels).flatMap(([key, value]) =>
    typeof value === 'string' ? [[`${prefix}${key}`, value]] : flat(value, `${prefix}${key}.`),
  );
}

describe('pageLanguage', () => {
  it('is German for every de* browser language', () => {
    for (const tag of ['de', 'de-DE', 'de-AT', 'de-CH', 'DE-de'])
      expect(pageLanguage(tag)).toBe('de');
  });

  it('is English for any other language, or none', () => {
    for (const tag of ['en-US', 'en', 'fr-FR', 'nl', 'dsb', 'denmark', '', undefined])
      expect(pageLanguage(tag)).toBe('en');
  });
});

describe('labelsFor', () => {
  it('gives the German labels for German and the English defaults otherwise', () => {
    expect(labelsFor('de')).toBe(GERMAN_LABELS);
    expect(labelsFor('en')).toBe(DEFAULT_LABELS);
    expect(labelsFor('de').states.working).toBe('Arbeitet');
    expect(PAGE_TITLES.de).toBe('Workshop IoT — Maschinen');
  });

  it('translates every English label (same keys, none left empty or in English)', () => {
    const english = new Map(flat(DEFAULT_LABELS));
    const german = flat(GERMAN_LABELS);
    expect(german.map(([key]) => key)).toEqual([...english.keys()]);
    // Words German shares with English (technical terms, "Live", "Offline", "Standby").
    const same = new Set(['states.standby', 'states.offline', 'online']);
    for (const [key, text] of german) {
      expect(text.trim(), key).not.toBe('');
      if (!same.has(key)) expect(text, key).not.toBe(english.get(key));
    }
  });

  it('uses the words of the Odoo addon German translation for the same English text', () => {
    const po = readPo(new URL('../../../addon/workshop_iot/i18n/de.po', import.meta.url).pathname);
    const german = new Map(flat(GERMAN_LABELS));
    const shared = flat(DEFAULT_LABELS).filter(([, text]) => po.has(text));
    // Every label but the worker's own first-machine help is also one of the Odoo dashboard's.
    expect(shared.map(([key]) => key)).toEqual(
      flat(DEFAULT_LABELS)
        .map(([key]) => key)
        .filter((key) => key !== 'firstMachineHelp'),
    );
    for (const [key, text] of shared) expect(german.get(key), key).toBe(po.get(text));
  });
});
