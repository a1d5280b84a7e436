#!/usr/bin/env node
/**
 * `npm test`: every test of the project, in one command, with one summary.
 *
 * Steps run in order; each reports passed/failed counts (or a single pass/fail for checks). System
 * packages the tests need beyond npm (mosquitto, openssl, chromium) are installed with apt-get when
 * missing. Odoo tests need an Odoo 18 source tree (ODOO_SRC, default /opt/odoo18): without one they
 * are SKIPPED LOUDLY and everything else still runs.
 *
 *   npm test                 # everything
 *   npm test -- --only vitest,python   # a subset of steps (names as printed in the summary)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? new Set(process.argv[onlyArg + 1].split(',')) : null;
const ODOO_SRC = process.env.ODOO_SRC || '/opt/odoo18';
const results = [];

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    cwd: root,
    stdio: opts.capture ? 'pipe' : 'inherit',
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
    maxBuffer: 256 * 1024 * 1024,
  });
  if (opts.capture) {
    process.stdout.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
  }
  return r;
}

function step(name, fn) {
  if (only && !only.has(name)) return;
  console.log(`\n\x1b[1m=== ${name} ===\x1b[0m`);
  const started = Date.now();
  let outcome;
  try {
    outcome = fn();
  } catch (err) {
    outcome = { passed: 0, failed: 1, note: String(err?.message ?? err) };
  }
  results.push({ name, seconds: (Date.now() - started) / 1000, ...outcome });
}

/** A check is one test: it passes when the command exits 0. */
const check = (cmd, args, opts) => () => {
  const r = run(cmd, args, opts);
  return r.status === 0
    ? { passed: 1, failed: 0 }
    : { passed: 0, failed: 1, note: `exit ${r.status ?? r.signal}` };
};

/** Reads the `N passed, N failed` line a sub-runner prints; no line or a bad exit is a failure. */
function totals(r) {
  const m = /(\d+) passed, (\d+) failed/.exec(`${r.stdout}`);
  if (!m) return { passed: 0, failed: 1, note: `exit ${r.status ?? r.signal}, no totals` };
  const failed = Number(m[2]) + (r.status !== 0 && m[2] === '0' ? 1 : 0);
  return { passed: Number(m[1]), failed };
}

function missingDebs(pkgs) {
  return pkgs.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
}

/** Installs Debian packages the tests need; an install failure is a test failure, not a skip. */
function ensureDebs(pkgs) {
  const missing = missingDebs(pkgs);
  if (missing.length === 0) return { passed: 1, failed: 0, note: 'already installed' };
  console.log(`installing Debian packages: ${missing.join(' ')}`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  let r = run(
    sudo[0] ?? 'apt-get',
    [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'update', '-qq'],
    { env },
  );
  if (r.status === 0)
    r = run(
      sudo[0] ?? 'apt-get',
      [...(sudo.length ? ['apt-get'] : []), 'install', '-y', '-qq', ...missing],
      { env },
    );
  const still = missingDebs(pkgs);
  return still.length === 0
    ? { passed: 1, failed: 0 }
    : { passed: 0, failed: 1, note: `could not install ${still.join(' ')}` };
}

const hasComposePlugin =
  spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;
step('system-packages', () =>
  ensureDebs([
    'mosquitto',
    'mosquitto-clients',
    'openssl',
    'chromium',
    // Python lint (step python-lint): Debian's flake8, configured by .flake8.
    'flake8',
    // Validates docker-compose.yaml offline when the `docker compose` plugin is absent.
    ...(hasComposePlugin ? [] : ['docker-compose']),
  ]),
);
step('lint', check('npx', ['biome', 'check', '.']));
step('typecheck', check('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']));
step('codegen-check', check('npx', ['tsx', 'shared/codegen/cli.ts', '--check']));
step('web-build-check', () =>
  existsSync(join(root, 'web/build.mjs'))
    ? check('node', ['web/build.mjs', '--check'])()
    : { passed: 0, failed: 1, note: 'web/build.mjs missing' },
);

step('vitest', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'wiot-vitest-')), 'results.json');
  const r = run('npx', [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
  ]);
  if (!existsSync(out)) return { passed: 0, failed: 1, note: `vitest exit ${r.status}, no report` };
  const report = JSON.parse(readFileSync(out, 'utf8'));
  const suiteErrors = report.testResults.filter(
    (t) => t.status === 'failed' && t.assertionResults.length === 0,
  ).length;
  return {
    passed: report.numPassedTests,
    failed:
      report.numFailedTests +
      suiteErrors +
      (r.status !== 0 && report.numFailedTests + suiteErrors === 0 ? 1 : 0),
    skipped: report.numPendingTests + report.numTodoTests,
  };
});

step('python', () => {
  const r = run(
    'python3',
    ['-m', 'unittest', 'discover', '-s', 'shared/test', '-p', 'test_*.py', '-v'],
    { capture: true },
  );
  const text = `${r.stdout}\n${r.stderr}`;
  const ran = Number(/Ran (\d+) tests?/.exec(text)?.[1] ?? 0);
  const bad = /FAILED \((?:failures=(\d+))?(?:, )?(?:errors=(\d+))?/.exec(text);
  const failed = bad ? Number(bad[1] ?? 0) + Number(bad[2] ?? 0) : r.status === 0 ? 0 : 1;
  return { passed: ran - (bad ? failed : 0), failed };
});

step('py-compile', check('python3', ['-m', 'compileall', '-q', 'addon']));
// The addons, the scripts and the schema package's Python tests, at the width set in .flake8.
step('python-lint', check('flake8', ['addon', 'scripts', 'shared']));
step('compose-config', () =>
  totals(run('bash', ['scripts/compose/check-config.sh'], { capture: true })),
);

step('browser', () => {
  if (!existsSync(join(root, 'web/test/browser/run.mjs')))
    return { passed: 0, failed: 1, note: 'web/test/browser/run.mjs missing' };
  return totals(run('node', ['web/test/browser/run.mjs'], { capture: true }));
});

const odooTree = existsSync(join(ODOO_SRC, 'odoo-bin'));
function odooStep(name, script, args = []) {
  step(name, () => {
    if (!odooTree) {
      console.log(
        `\n\x1b[41;97m  SKIPPED: no Odoo 18 tree at ODOO_SRC=${ODOO_SRC} — the ${name} tests did NOT run.  \x1b[0m\n`,
      );
      return { passed: 0, failed: 0, skipped: 1, note: `SKIPPED: no Odoo tree at ${ODOO_SRC}` };
    }
    return totals(run('bash', [script, ...args], { capture: true, env: { ODOO_SRC } }));
  });
}
odooStep('odoo', 'scripts/run-odoo-tests.sh');
odooStep('e2e', 'scripts/e2e/run.sh');
odooStep('onboarding', 'scripts/e2e/run.sh', ['--onboarding']);
odooStep('scale', 'scripts/e2e/run.sh', ['--scale']);

// ------------------------------------------------------------------------------------------------
console.log('\n\x1b[1m=== summary ===\x1b[0m');
let passed = 0;
let failed = 0;
let skipped = 0;
for (const r of results) {
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped ?? 0;
  const mark = r.failed
    ? '\x1b[31mFAIL\x1b[0m'
    : r.skipped && !r.passed
      ? '\x1b[33mSKIP\x1b[0m'
      : '\x1b[32mok  \x1b[0m';
  console.log(
    `${mark} ${r.name.padEnd(18)} ${String(r.passed).padStart(5)} passed ${String(r.failed).padStart(4)} failed ${String(r.skipped ?? 0).padStart(4)} skipped ${r.seconds.toFixed(1).padStart(7)} s${r.note ? `  (${r.note})` : ''}`,
  );
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
