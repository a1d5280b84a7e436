/**
 * Calibration (issue 18): the worker's control API method `analysis.run` (admin token) answers, for
 * one machine and a time range of its recorded readings, the power histogram, a proposed
 * `session_config`, and the sessions the current and the candidate settings would have produced —
 * both replayed by the worker's own session state machine on a simulated clock.
 *
 * Odoo's Calibrate wizard calls it first without `candidate` (the worker proposes), then with the
 * admin's edited values as `candidate` (a live re-run); Apply writes the values on the device.
 */
import { type Static, Type } from '@sinclair/typebox';
import { DeviceId, EnergyWh, Nullable, PowerW, Seconds, Timestamp } from './common.ts';
import { SessionConfig } from './worker-config.ts';

const Count = Type.Integer({ minimum: 0, maximum: 9_007_199_254_740_991 });

export const AnalysisRunParams = Type.Object(
  {
    device_id: DeviceId,
    /** Range of recorded readings to analyse; `to` must be after `from` (else INVALID_PARAMS). */
    from: Timestamp,
    to: Timestamp,
    /**
     * Settings to replay as the "proposed" side (the admin's edited values). Absent: the worker's own
     * proposal is replayed. The "current" side always replays the machine's configured settings.
     */
    candidate: Type.Optional(SessionConfig),
    /** Histogram bins (log-spaced), default 40. */
    bins: Type.Optional(Type.Integer({ minimum: 4, maximum: 200 })),
  },
  { additionalProperties: false },
);

/** One log-spaced histogram bin: readings with from_w <= power < to_w (the first bin starts at 0 W). */
export const HistogramBin = Type.Object(
  {
    from_w: PowerW,
    to_w: PowerW,
    /** Readings in the bin. */
    count: Count,
    /** Time spent in the bin (each reading holds until the next one, capped at message_timeout_s). */
    seconds: Seconds,
  },
  { additionalProperties: false },
);

/** A power level the analysis found (a cluster of the profile), used to place the thresholds. */
export const PowerCluster = Type.Object(
  {
    role: Type.Union([Type.Literal('off'), Type.Literal('standby'), Type.Literal('working')]),
    /** Median power of the cluster. */
    center_w: PowerW,
    low_w: PowerW,
    high_w: PowerW,
    /** Share of the recorded time spent in this cluster, 0..1. */
    share: Type.Number({ minimum: 0, maximum: 1 }),
  },
  { additionalProperties: false },
);

/** A session as the replay produced it (what the worker's session_stopped would have said). */
export const ReplayedSession = Type.Object(
  {
    started_at: Timestamp,
    /** Null when the session was still open at the end of the range. */
    ended_at: Nullable(Timestamp),
    /** A StopReason, or 'open': still running when the range ended. */
    reason: Type.Union([
      Type.Literal('power_off'),
      Type.Literal('timeout'),
      Type.Literal('removed'),
      Type.Literal('shutdown'),
      Type.Literal('open'),
    ]),
    working_s: Seconds,
    standby_s: Seconds,
    total_s: Seconds,
    energy_wh: Nullable(EnergyWh),
  },
  { additionalProperties: false },
);

export const ReplayResult = Type.Object(
  {
    session_config: SessionConfig,
    sessions: Type.Array(ReplayedSession, { maxItems: 10_000 }),
    /** Sessions beyond the 10,000 returned (not listed). */
    sessions_omitted: Count,
  },
  { additionalProperties: false },
);

export const AnalysisRunResult = Type.Object(
  {
    device_id: DeviceId,
    from: Timestamp,
    to: Timestamp,
    /** Recorded readings in the range. */
    readings: Count,
    /** First and last recorded reading in the range (null when there are none). */
    first_reading_at: Nullable(Timestamp),
    last_reading_at: Nullable(Timestamp),
    histogram: Type.Array(HistogramBin, { maxItems: 200 }),
    clusters: Type.Array(PowerCluster, { maxItems: 8 }),
    /** The worker's proposal (from the clusters and the observed flapping). */
    proposed_config: SessionConfig,
    /** Human-readable lines: how each proposed value was chosen, and any warning (too few readings). */
    explanation: Type.Array(Type.String({ maxLength: 512 }), { maxItems: 20 }),
    current: ReplayResult,
    /** Replay of `candidate` when given, else of `proposed_config`. */
    proposed: ReplayResult,
  },
  { additionalProperties: false },
);

export type AnalysisRunParams = Static<typeof AnalysisRunParams>;
export type HistogramBin = Static<typeof HistogramBin>;
export type PowerCluster = Static<typeof PowerCluster>;
export type ReplayedSession = Static<typeof ReplayedSession>;
export type ReplayResult = Static<typeof ReplayResult>;
export type AnalysisRunResult = Static<typeof AnalysisRunResult>;
