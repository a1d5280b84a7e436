/**
 * The last applied `WorkerConfig`, persisted in `<data_dir>/config.json` so the worker starts with it
 * before anything else (autonomy: no Odoo needed after the first push).
 *
 * Writes are atomic and durable: write a temp file, fsync it, rename over the old file, fsync the
 * directory (without the last step a power cut can forget the rename on ext4/xfs). A reader therefore
 * sees either the old or the new file, never a torn one. A file that fails validation on load is moved
 * aside (`config.json.corrupt-<ms>`) and logged; the worker then falls back to its settings' config.
 */
import fs from 'node:fs';
import path from 'node:path';
import { validate, type WorkerConfig } from '@workshop-iot/shared';
import type { Logger } from '../log.ts';
import { writeFileAtomic } from '../util/atomic-file.ts';

export interface StoredConfig {
  config: WorkerConfig;
  /** ISO-8601 UTC time of the apply. */
  applied_at: string;
}

export const CONFIG_FILE = 'config.json';

export class ConfigStore {
  readonly file: string;

  readonly dir: string;
  readonly #log: Logger;

  constructor(options: { dir: string; log: Logger }) {
    this.dir = options.dir;
    this.#log = options.log;
    this.file = path.join(options.dir, CONFIG_FILE);
  }

  load(): StoredConfig | null {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as StoredConfig;
      const errors = validate('worker_config', parsed?.config);
      if (errors.length === 0 && typeof parsed.applied_at === 'string') return parsed;
      this.#quarantine({ errors: errors.slice(0, 10) });
    } catch (err) {
      this.#quarantine({ err });
    }
    return null;
  }

  save(stored: StoredConfig): void {
    writeFileAtomic(this.file, `${JSON.stringify(stored, null, 2)}\n`, 0o600);
  }

  #quarantine(details: Record<string, unknown>): void {
    const aside = `${this.file}.corrupt-${Date.now()}`;
    fs.renameSync(this.file, aside);
    this.#log.error(
      { ...details, file: this.file, moved_to: aside },
      'Stored config is unreadable; moved aside, starting from the settings config',
    );
  }
}
