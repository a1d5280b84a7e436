/**
 * Power profiles of the simulator's scenarios: a pure function of simulated time per device, so a
 * scenario is reproducible (seeded noise) and independent of the speed factor.
 */

export const SCENARIOS = [
  'full-session',
  'standby-only',
  'working',
  'flapping',
  'offline-gap',
  'many-devices',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** What a device draws and whether it is reachable at one instant. */
export interface PowerSample {
  power_w: number;
  online: boolean;
}

export interface Profile {
  /** One run of the scenario, in simulated seconds (the simulator stops or loops after it). */
  duration_s: number;
  sample(t_s: number): PowerSample;
}

/** Thresholds the generated device configs use; the scenarios are built around them. */
export const SIM_STANDBY_THRESHOLD_W = 10;
export const SIM_WORKING_THRESHOLD_W = 100;

interface Segment {
  until_s: number;
  power_w: number;
  online?: boolean;
}

/** Piecewise-constant profile with +-`noise` relative jitter (never below 0). */
function segments(list: Segment[], random: () => number, noise = 0.02): Profile {
  const duration_s = list.at(-1)?.until_s ?? 0;
  return {
    duration_s,
    sample(t_s) {
      const at = ((t_s % duration_s) + duration_s) % duration_s;
      const seg = list.find((s) => at < s.until_s) ?? list.at(-1)!;
      const jitter = seg.power_w === 0 ? 0 : seg.power_w * noise * (2 * random() - 1);
      return { power_w: round1(Math.max(0, seg.power_w + jitter)), online: seg.online ?? true };
    },
  };
}

/** Oscillates around the standby threshold: 3 W below / above, switching every 3-15 s. */
function flapping(random: () => number): Profile {
  const switches: number[] = [];
  for (let t = 0; t < 600; t += 3 + Math.floor(random() * 13)) switches.push(t);
  return {
    duration_s: 600,
    sample(t_s) {
      const at = t_s % 600;
      let index = 0;
      while (index + 1 < switches.length && switches[index + 1]! <= at) index++;
      const above = index % 2 === 1;
      return { power_w: SIM_STANDBY_THRESHOLD_W + (above ? 3 : -3), online: true };
    },
  };
}

// Over 50 lines on purpose: one flat table of the scenarios reads better than six tiny functions.
export function profileFor(scenario: ScenarioName, index: number, random: () => number): Profile {
  const standby = 25;
  const working = 1200;
  switch (scenario) {
    case 'full-session':
      return segments(
        [
          { until_s: 60, power_w: 0 },
          { until_s: 180, power_w: standby },
          { until_s: 600, power_w: working },
          { until_s: 720, power_w: standby },
          { until_s: 900, power_w: 0 },
        ],
        random,
      );
    case 'standby-only':
      return segments(
        [
          { until_s: 60, power_w: 0 },
          { until_s: 480, power_w: 30 },
          { until_s: 600, power_w: 0 },
        ],
        random,
      );
    case 'working':
      // Steady draw: a change-only meter (Shelly Gen3) goes silent here; polls must keep it alive.
      return segments(
        [
          { until_s: 30, power_w: 0 },
          { until_s: 870, power_w: 2000 },
          { until_s: 900, power_w: 0 },
        ],
        random,
        0,
      );
    case 'flapping':
      return flapping(random);
    case 'offline-gap':
      return segments(
        [
          { until_s: 30, power_w: 0 },
          { until_s: 400, power_w: 1000 },
          { until_s: 700, power_w: 0, online: false },
          { until_s: 1000, power_w: 1000 },
          { until_s: 1200, power_w: 0 },
        ],
        random,
      );
    case 'many-devices': {
      // A mix of the single-device scenarios, each device shifted so sessions do not align.
      const kinds: ScenarioName[] = ['full-session', 'standby-only', 'working'];
      const inner = profileFor(kinds[index % kinds.length]!, index, random);
      const offset = Math.floor(random() * inner.duration_s);
      return {
        duration_s: 1800,
        sample: (t_s) => inner.sample(t_s + offset),
      };
    }
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;
