/**
 * The dev stack's broker (`npm run dev`, the end-to-end run): mosquitto (scripts/lib/mosquitto.ts)
 * configured as the Docker stack's: authentication on (generated passwords), the stack's ACL
 * (deploy/mosquitto/acl: logins `worker` and `devices`), no persistence, the queue settings of the
 * worker's persistent session, its log in `<dir>/mosquitto.log`.
 */
import path from 'node:path';
import { Mosquitto } from '../lib/mosquitto.ts';
import { REPO_ROOT } from './util.ts';

/** The Docker stack's ACL: `worker` reads everything and writes its polls, `devices` the meters. */
export const STACK_ACL = path.join(REPO_ROOT, 'deploy/mosquitto/acl');

/**
 * Broker settings that let the worker's persistent MQTT session bridge a worker restart: the meters'
 * QoS 0 readings are queued for it while it is away (worker/src/mqtt/README.md "Persistent session";
 * the same settings as deploy/mosquitto/mosquitto.conf).
 */
export const PERSISTENT_SESSION_SETTINGS = [
  'queue_qos0_messages true',
  'max_queued_messages 100000',
  'persistent_client_expiration 2d',
] as const;

export interface MosquittoLogin {
  username: string;
  password: string;
}

export interface StackBrokerOptions {
  dir: string;
  port: number;
  logins: MosquittoLogin[];
  /** An ACL file (`acl_file`), e.g. STACK_ACL. */
  aclFile?: string;
}

export function stackBroker(options: StackBrokerOptions): Mosquitto {
  return new Mosquitto({
    dir: options.dir,
    port: options.port,
    users: Object.fromEntries(options.logins.map((l) => [l.username, l.password])),
    ...(options.aclFile ? { aclFile: options.aclFile } : {}),
    extra: PERSISTENT_SESSION_SETTINGS,
    logToFile: true,
  });
}
