/**
 * The worker's command line: `--config <file>` (or `--config=<file>`) and `--help`, nothing else.
 *
 * Anything else is refused (exit 2 from main.ts) instead of being ignored: a typo such as
 * `--confg x` must not start the worker on its defaults while the operator believes it runs on x.
 */
import path from 'node:path';
import { WorkerError } from './errors.ts';

export const USAGE = `Usage: npm start -- [--config <file>]
       tsx worker/src/main.ts [--config <file>]

  --config <file>  settings file (default: $WORKSHOP_IOT_CONFIG, else ./workshop-iot.json if present)
  -h, --help       this text

Every setting can also come from the environment (WORKSHOP_IOT_*): see worker/README.md.
`;

export interface WorkerArgs {
  /** As given (relative paths are resolved by `settingsBaseDir`). */
  config: string | null;
  help: boolean;
}

/** Parses the worker's argv; throws SETTINGS_OPTION_INVALID naming the offending argument. */
export function parseWorkerArgs(argv: readonly string[]): WorkerArgs {
  const args: WorkerArgs = { config: null, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h' || arg === '--help') args.help = true;
    else if (arg === '--config') {
      const value = argv[i + 1];
      if (value === undefined || value === '' || value.startsWith('-'))
        throw invalid('option --config needs a file path');
      args.config = value;
      i++;
    } else if (arg.startsWith('--config=')) {
      const value = arg.slice('--config='.length);
      if (value === '') throw invalid('option --config needs a file path');
      args.config = value;
    } else if (arg.startsWith('-')) {
      throw invalid(`unknown option '${arg}' (accepted: --config <file>, --help)`);
    } else {
      throw invalid(`unexpected argument '${arg}' (accepted: --config <file>, --help)`);
    }
  }
  return args;
}

/** npm scripts that run in `worker/` on paths the operator typed (`npm start`, `npm run recording`). */
const OPERATOR_SCRIPTS = new Set(['start', 'recording']);

/**
 * Directory a relative settings file path is resolved against. Under `npm start` the worker runs in
 * `worker/` (npm's workspace directory), but the operator typed the path relative to where they ran
 * npm, which npm passes as INIT_CWD; anywhere else it is the process's working directory.
 */
export function settingsBaseDir(env: NodeJS.ProcessEnv, cwd: string): string {
  return OPERATOR_SCRIPTS.has(env.npm_lifecycle_event ?? '') && env.INIT_CWD
    ? path.resolve(env.INIT_CWD)
    : cwd;
}

const invalid = (reason: string) => new WorkerError('SETTINGS_OPTION_INVALID', { reason });
