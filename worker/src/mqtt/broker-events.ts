/**
 * What the device registry does on the MQTT connection's lifecycle events (app.ts wires it; the
 * persistent-session tests wire the same function):
 *   connected     liveness resumes (silence while the broker was unreachable is not the devices' fault);
 *                 the broker now delivers what it queued: readings keep their own time (replaying)
 *   disconnected  liveness pauses
 *   ready         every SUBSCRIBE answered, so the queue is delivered (mosquitto sends it right after
 *                 CONNACK, before the SUBACKs): arrival times again; devices held at their snapshot
 *                 time since a restart catch up to now (devices/catch-up.ts); poll every pollable
 *                 meter, so a restarted or reconnected worker learns each meter's present power now
 */
import type { DeviceRegistry } from '../devices/registry.ts';
import type { ConnectionEvent } from './client.ts';

export function brokerEventsTo(
  registry: Pick<DeviceRegistry, 'setBrokerConnected' | 'setReplaying' | 'catchUp' | 'pollAll'>,
): (event: ConnectionEvent) => void {
  return (event) => {
    if (event.type === 'connected') {
      registry.setBrokerConnected(true);
      registry.setReplaying(true);
    } else if (event.type === 'disconnected') {
      registry.setReplaying(false);
      registry.setBrokerConnected(false);
    } else if (event.type === 'ready') {
      registry.setReplaying(false);
      registry.catchUp();
      registry.pollAll();
    }
  };
}
