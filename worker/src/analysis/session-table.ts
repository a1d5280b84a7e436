/**
 * Sessions as the replay CLI prints them: a fixed-width table, and the difference between the
 * sessions of two configs. Two sessions are the same session when they start at the same reading;
 * a session of both lists whose end, reason, times or energy differ is "changed".
 */
import type { ReplayedSession } from '@workshop-iot/shared';

export interface SessionDiff {
  onlyA: ReplayedSession[];
  onlyB: ReplayedSession[];
  changed: { a: ReplayedSession; b: ReplayedSession; fields: Compared[] }[];
  same: number;
}

type Compared = 'ended_at' | 'reason' | 'working_s' | 'standby_s' | 'total_s' | 'energy_wh';
const COMPARED: readonly Compared[] = [
  'ended_at',
  'reason',
  'working_s',
  'standby_s',
  'total_s',
  'energy_wh',
];

export function diffSessions(a: ReplayedSession[], b: ReplayedSession[]): SessionDiff {
  const byStart = new Map(b.map((s) => [s.started_at, s]));
  const diff: SessionDiff = { onlyA: [], onlyB: [], changed: [], same: 0 };
  const matched = new Set<string>();
  for (const sa of a) {
    const sb = byStart.get(sa.started_at);
    if (!sb) {
      diff.onlyA.push(sa);
      continue;
    }
    matched.add(sa.started_at);
    const fields = COMPARED.filter((f) => sa[f] !== sb[f]);
    if (fields.length > 0) diff.changed.push({ a: sa, b: sb, fields });
    else diff.same++;
  }
  for (const sb of b) if (!matched.has(sb.started_at)) diff.onlyB.push(sb);
  return diff;
}

export function sessionTable(sessions: ReplayedSession[]): string {
  const head = [
    '#',
    'started_at',
    'ended_at',
    'reason',
    'working',
    'standby',
    'total',
    'energy_wh',
  ];
  const rows = sessions.map((s, i) => [
    String(i + 1),
    s.started_at,
    s.ended_at ?? '(open)',
    s.reason,
    duration(s.working_s),
    duration(s.standby_s),
    duration(s.total_s),
    s.energy_wh === null ? '-' : s.energy_wh.toFixed(3),
  ]);
  const widths = head.map((h, c) =>
    Math.max(h.length, ...rows.map((r) => (r[c] as string).length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, c) =>
        c >= 4 ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number),
      )
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export function diffText(diff: SessionDiff): string {
  const out = [
    `${diff.onlyA.length} only in A, ${diff.onlyB.length} only in B, ${diff.changed.length} changed, ${diff.same} the same`,
  ];
  const span = (s: ReplayedSession) =>
    `${s.started_at} -> ${s.ended_at ?? '(open)'} ${s.reason}, total ${duration(s.total_s)}`;
  for (const s of diff.onlyA) out.push(`- only in A: ${span(s)}`);
  for (const s of diff.onlyB) out.push(`+ only in B: ${span(s)}`);
  for (const { a, b, fields } of diff.changed)
    out.push(
      `~ changed:   ${a.started_at}: ${fields.map((f) => `${f} ${show(a[f])} -> ${show(b[f])}`).join(', ')}`,
    );
  return out.join('\n');
}

/** Seconds as h:mm:ss (sessions run from seconds to days). */
export function duration(s: number): string {
  const total = Math.round(s);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`;
}

const show = (v: unknown) => (v === null ? 'null' : String(v));
