/**
 * The synthetic machines of the calibration tests (scripts/sim/power-profiles.ts, seeded): what they
 * are, the settings they are configured with today, and a device config around those settings.
 */
import type { DeviceConfig, SessionConfig } from '@workshop-iot/shared';
import { generateProfile, type PowerProfile } from '../../../scripts/sim/power-profiles.ts';

/** 2026-11-30T00:00:00Z: every profile starts at midnight. */
export const START_MS = Date.UTC(2026, 10, 30);
export const DAY_MS = 86_400_000;

export const SETTINGS: SessionConfig = {
  standby_threshold_w: 5,
  working_threshold_w: 60,
  start_debounce_s: 10,
  stop_debounce_s: 30,
  message_timeout_s: 300,
  heartbeat_interval_s: 60,
};

export function machine(id: string, session: Partial<SessionConfig> = {}): DeviceConfig {
  return {
    device_id: id,
    name: `Machine ${id}`,
    parser_type: 'shelly_gen2',
    topic: `shelly-${id}`,
    session_config: { ...SETTINGS, ...session },
  };
}

/** Off 2 W, standby 12 W, working 300 W (3 % noise) with pauses of up to 40 s at 2 W inside work. */
export const WORKSHOP: PowerProfile = {
  start: START_MS,
  days: 2,
  interval_s: 2,
  seed: 11,
  off_w: 2,
  standby_w: 12,
  working_w: 300,
  noise: 0.03,
  jobs_per_day: 5,
  dip_max_s: 40,
};

/** A laser idling at 15 W whose chiller adds 105 W for 20 s every 3 minutes; cutting at 900 W. */
export const LASER_WITH_CHILLER: PowerProfile = {
  start: START_MS,
  days: 2,
  interval_s: 1,
  seed: 12,
  off_w: 15,
  standby_w: null,
  working_w: 900,
  noise: 0.03,
  jobs_per_day: 4,
  dip_max_s: 0,
  chiller: { w: 105, every_s: 180, burst_s: 20 },
};

/** Idles at 12 W (never lower), works at 300 W. */
export const IDLES_AT_12_W: PowerProfile = {
  start: START_MS,
  days: 2,
  interval_s: 5,
  seed: 13,
  off_w: 12,
  standby_w: null,
  working_w: 300,
  noise: 0.03,
  jobs_per_day: 4,
  dip_max_s: 0,
};

export { generateProfile };
