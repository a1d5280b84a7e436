/**
 * `npm run codegen` renders every generated file from the contracts and writes them;
 * `npm run codegen -- --check` renders in memory, compares bytes with the tree and lists each stale,
 * missing or orphaned file (the Kubernetes verify-codegen idea, without a temp directory).
 *
 * Outputs: shared/generated/<contract>.schema.json, addon/workshop_iot/schema/{generated,__init__}.py.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTRACTS, type Contract } from '../src/contracts/index.ts';
import { hashBanner, sourceDigest } from './banner.ts';
import { emitJsonSchema } from './emit-json-schema.ts';
import { emitPython } from './emit-python.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const JSON_DIR = 'shared/generated';
export const PY_MODULE = 'addon/workshop_iot/schema/generated.py';
export const PY_INIT = 'addon/workshop_iot/schema/__init__.py';
export const REGENERATE_COMMAND = 'npm run codegen';

/** Every generated file, keyed by its path relative to the repository root. */
export function renderAll(
  contracts: Record<string, Contract> = CONTRACTS,
  digest = sourceDigest(REPO_ROOT),
): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, contract] of Object.entries(contracts))
    files.set(`${JSON_DIR}/${name}.schema.json`, emitJsonSchema(name, contract, digest));
  files.set(PY_MODULE, emitPython(contracts, digest));
  files.set(PY_INIT, emitPythonInit(Object.keys(contracts), digest));
  return files;
}

function emitPythonInit(names: string[], digest: string): string {
  const exported = ['CONTRACTS', 'validate', ...names.map((n) => `validate_${n}`)];
  return [
    hashBanner(digest).trimEnd(),
    '"""Validators of the shared wire contracts (see generated.py); pure stdlib, no Odoo imports."""',
    '',
    'from .generated import (',
    ...exported.map((e) => `    ${e},`),
    ')',
    '',
    '__all__ = [',
    ...exported.map((e) => `    "${e}",`),
    ']',
    '',
  ].join('\n');
}

export interface CheckReport {
  stale: string[];
  missing: string[];
  /** Generated-looking files nothing renders any more (a removed contract). */
  orphaned: string[];
}

/** Compares rendered files with the tree under `root`, byte for byte. */
export function checkFiles(root: string, files: Map<string, string>): CheckReport {
  const report: CheckReport = { stale: [], missing: [], orphaned: [] };
  for (const [path, content] of files) {
    const full = join(root, path);
    if (!existsSync(full)) report.missing.push(path);
    else if (!readFileSync(full).equals(Buffer.from(content, 'utf8'))) report.stale.push(path);
  }
  report.orphaned = orphans(root, files);
  return report;
}

function orphans(root: string, files: Map<string, string>): string[] {
  const dir = join(root, JSON_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.schema.json'))
    .map((f) => `${JSON_DIR}/${f}`)
    .filter((p) => !files.has(p))
    .sort();
}

/** Human-readable lines for a failed check; empty when everything is up to date. */
export function describeReport(report: CheckReport): string[] {
  const lines = [
    ...report.stale.map((p) => `  stale:    ${p}`),
    ...report.missing.map((p) => `  missing:  ${p}`),
    ...report.orphaned.map((p) => `  orphaned: ${p} (no contract renders it any more)`),
  ];
  if (lines.length === 0) return [];
  return [
    'codegen --check: generated files are out of date:',
    ...lines,
    `Run \`${REGENERATE_COMMAND}\` and commit the result.`,
  ];
}

export function writeAll(root: string, files: Map<string, string>): string[] {
  const written: string[] = [];
  for (const [path, content] of files) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    if (existsSync(full) && readFileSync(full, 'utf8') === content) continue;
    writeFileSync(full, content);
    written.push(path);
  }
  for (const path of orphans(root, files)) {
    rmSync(join(root, path));
    written.push(`${path} (removed)`);
  }
  return written;
}

/** The CLI without process globals, so a test can run it against another tree. */
export function runCli(argv: string[], root = REPO_ROOT): { code: number; output: string } {
  const files = renderAll();
  if (argv.includes('--check')) {
    const problems = describeReport(checkFiles(root, files));
    if (problems.length > 0) return { code: 1, output: problems.join('\n') };
    return { code: 0, output: `codegen --check: ${files.size} generated files are up to date` };
  }
  const written = writeAll(root, files);
  const output = written.length
    ? `codegen: wrote ${written.length} file(s):\n${written.map((p) => `  ${p}`).join('\n')}`
    : `codegen: ${files.size} generated files already up to date`;
  return { code: 0, output };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { code, output } = runCli(process.argv.slice(2));
  (code === 0 ? console.log : console.error)(output);
  process.exitCode = code;
}
