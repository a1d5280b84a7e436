"""Members on sessions from badges (issue 16): the rules of readme/USAGE.md, in any arrival order.

The fold stores each badge event with its member (``_resolve_badges``); then, for every machine
session the chunk touched (by its events or by a badge), ``_attribute_members`` recomputes who used
it from *all* stored badges of the machine around the session. The result depends only on the set of
events, never on their order: a badge folded before the session's start attributes it once the start
arrives, a late earlier badge splits a session its later badge had attributed.

A split session is folded again from all its stored events (``_resplit``): its cumulative figures
at each cut are interpolated between the worker's reports, so the parts add up to the whole, and the
billing units of a part are what the whole gained during it (units of the whole up to the part's end
minus up to its start): the parts never bill more units than the unsplit session would.
"""

import bisect
from collections import namedtuple
from datetime import datetime, timedelta

from odoo import api, models
from odoo.tools import SQL

from ..tools.session_fold import SessionFold
from ..tools.timeutil import parse_wire_ts
from .workshop_event import DEFAULT_BADGE_WINDOW_S
from .workshop_session_processing import SESSION_TYPES

Badge = namedtuple("Badge", "event_uid at seq device member")
# Cumulative figures of a session at one instant.
Figures = namedtuple("Figures", "total working standby energy")
_ZERO = Figures(0.0, 0.0, 0.0, 0.0)
_FAR_FUTURE = datetime(9999, 1, 1)


class WorkshopSession(models.Model):
    _inherit = "workshop.session"

    @api.model
    def _badge_window_s(self):
        return max(self.env["workshop.event"]._float_param("workshop_iot.badge_window_s", DEFAULT_BADGE_WINDOW_S), 0.0)

    # ------------------------------------------------------------------ badge events
    @api.model
    def _resolve_badges(self, worker, items):
        """Reader, machine and member of ``worker``'s badge events. Returns ``(outcome, badges)``:
        ``outcome`` holds the refused ones (``error``: unknown reader, machine or card, reprocessable
        once a manager added it), ``badges`` a ``Badge`` per event with a known card."""
        Reader = self.env["workshop.badge.reader"].sudo().with_context(active_test=False)
        readers = set(Reader.search([("reader_id", "in", list({i["device_id"] for i in items})),
                                     ("worker_id", "=", worker.id)]).mapped("reader_id"))
        machines = self.env["workshop.device"].sudo()._for_ingest(
            worker, {i["payload"]["machine_device_id"] for i in items})
        members = self.env["workshop.member.card"]._members_by_card({i["payload"]["card_id"] for i in items})
        outcome, badges = {}, []
        for item in items:
            payload = item["payload"]
            machine = machines.get(payload["machine_device_id"])
            if item["device_id"] not in readers:
                error = "Unknown badge reader %r of worker %s" % (item["device_id"], worker.worker_uid)
            elif not machine:
                error = "Unknown machine (device id %r)" % payload["machine_device_id"]
            elif payload["card_id"] not in members:
                error = "Unknown card %s: add it to a member's Workshop cards, then Reprocess" % payload["card_id"]
            else:
                badges.append(Badge(item["event_uid"], item["_occurred_at"], item["seq"], machine,
                                    members[payload["card_id"]]))
                continue
            outcome[item["event_uid"]] = ("error", False, error)
        return outcome, badges

    # ------------------------------------------------------------------ attribution
    @api.model
    def _attribute_members(self, session_uids, badges, batch):
        """Attribute the sessions (worker session ids) the chunk touched and those near its
        ``badges``; ``batch`` holds the chunk's wire events (not stored as processed yet). Returns
        ``{event_uid: session id}`` for the badge events and the events of split sessions."""
        window = timedelta(seconds=self._badge_window_s())
        wholes = set(session_uids)
        for badge in badges:
            near = self.search([("device_id", "=", badge.device.id), ("started_at", "<=", badge.at + window),
                                "|", ("state", "=", "running"), ("ended_at", ">=", badge.at)])
            wholes.update(near.mapped("worker_session_uid"))
        if not wholes:
            return {}
        found = self.search([("worker_session_uid", "in", list(wholes))], order="split_index")
        # The common case, a machine without badges, costs one query per chunk.
        if not badges and not found.filtered("split_index") and not self.env["workshop.event"].sudo().search_count(
                [("event_type", "=", "badge_presented"), ("state", "=", "processed"),
                 ("device_id", "in", found.device_id.ids)], limit=1):
            return {}
        parts_of = {}
        for part in found:
            parts_of.setdefault(part.worker_session_uid, self.browse())
            parts_of[part.worker_session_uid] |= part
        links = {}
        for uid, parts in parts_of.items():
            links.update(self._attribute_one(uid, parts, badges, batch, window))
        return links

    def _badges_around(self, device, start, end, window, batch_badges):
        """Badges of ``device`` from ``start - window`` to ``end`` (None: running): the stored
        processed ones and those of the chunk, ordered by time."""
        domain = [("event_type", "=", "badge_presented"), ("state", "=", "processed"), ("member_id", "!=", False),
                  ("device_id", "=", device.id), ("occurred_at", ">=", start - window)]
        if end:
            domain.append(("occurred_at", "<=", end))
        found = {e.event_uid: Badge(e.event_uid, e.occurred_at, e.seq, device, e.member_id)
                 for e in self.env["workshop.event"].sudo().search(domain)}
        for badge in batch_badges:
            if badge.device == device and badge.at >= start - window and (not end or badge.at <= end):
                found[badge.event_uid] = badge
        return sorted(found.values(), key=lambda b: (b.at, b.seq, b.event_uid))

    def _attribute_one(self, uid, parts, batch_badges, batch, window):
        first, last = parts[0], parts[-1]
        device, start = first.device_id, first.started_at
        end = last.ended_at if last.state != "running" else None
        badges = self._badges_around(device, start, end, window, batch_badges)
        if badges and badges[0].at < start:
            # A badge before the start belongs to this session only if the machine was off then.
            before = self.search(
                [("device_id", "=", device.id), ("started_at", "<", start), ("worker_session_uid", "!=", uid)],
                order="started_at desc, split_index desc", limit=1)
            if before:
                busy_until = before.ended_at if before.state != "running" else _FAR_FUTURE
                badges = [b for b in badges if b.at >= start or b.at > busy_until]
        first_member, cuts = None, []
        for badge in badges:
            current = cuts[-1][1] if cuts else first_member
            if badge.at <= start or current is None:
                first_member = badge.member if not cuts else first_member
            elif badge.member != current:
                cuts.append((badge.at, badge.member))
        links = {}
        if cuts or len(parts) > 1:
            parts, links = self._resplit(uid, parts, cuts, batch)
        bounds = [start] + [at for at, _member in cuts]
        if first_member:
            parts[0]._set_member(first_member, "badge")
        for index, (_at, member) in enumerate(cuts, start=1):
            parts[index]._set_member(member, "badge")
        for badge in badges:
            index = max(bisect.bisect_right(bounds, badge.at) - 1, 0)
            links[badge.event_uid] = parts[min(index, len(parts) - 1)].id
        self._link_events(links)
        return links

    def _link_events(self, links):
        """Point stored badge events at the session they attributed (the chunk's own are written
        with the chunk's outcome)."""
        if not links:
            return
        self.env.flush_all()
        self.env.cr.execute(SQL(
            """UPDATE workshop_event e SET session_id = u.session_id
                 FROM unnest(%s::varchar[], %s::int4[]) AS u(event_uid, session_id)
                WHERE e.event_uid = u.event_uid AND e.session_id IS DISTINCT FROM u.session_id""",
            list(links), list(links.values())))
        self.env["workshop.event"].invalidate_model(["session_id"])
        self.invalidate_model(["event_ids"])

    # ------------------------------------------------------------------ split
    def _session_events(self, uid, batch):
        """All session events of worker session ``uid``: stored (not refused) plus the chunk's."""
        stored = self.env["workshop.event"].sudo().search([
            ("session_uid", "=", uid), ("event_type", "in", list(SESSION_TYPES)), ("state", "!=", "error")])
        events = {e.event_uid: dict(e._as_wire(), _is_late=e.is_late) for e in stored}
        for event in batch:
            if event["type"] in SESSION_TYPES and event["payload"].get("session_id") == uid:
                events[event["event_uid"]] = event
        return sorted(events.values(), key=lambda e: e["seq"])

    def _resplit(self, uid, parts, cuts, batch):
        """Fold worker session ``uid`` again from all its events and write it as one part per
        member: ``[start, cut 1)``, ``[cut 1, cut 2)``... Returns the parts in order and
        ``{event_uid: part id}`` of the session's events."""
        device, worker = parts[0].device_id, parts[0].worker_id
        events = self._session_events(uid, batch)
        whole = SessionFold()
        for event in events:
            whole.apply(event, event.get("_is_late", False))
        curve = _curve(whole, events)
        bounds = [whole.started_at] + [at for at, _member in cuts]
        while len(bounds) < len(parts):  # parts left over by an earlier split stay, empty
            bounds.append(bounds[-1])
        by_part = [[] for _b in bounds]
        for event in events:
            index = max(bisect.bisect_right(bounds, _event_time(event)) - 1, 0)
            by_part[index].append(event)
        result, earlier_total = self.browse(), 0.0
        for index, low in enumerate(bounds):
            high = bounds[index + 1] if index + 1 < len(bounds) else None
            at_low = _figures_at(curve, low)
            at_high = (_figures_at(curve, high) if high
                       else Figures(whole.total_s, whole.working_s, whole.standby_s, whole.energy_wh))
            working = max(at_high.working - at_low.working, 0.0)
            standby = max(at_high.standby - at_low.standby, 0.0)
            total = (high - low).total_seconds() if high else whole.total_s - earlier_total
            total = max(total, working + standby)
            earlier_total += total
            state = "done" if high else whole.state
            low_bill = self._billing_vals(device, at_low.working, at_low.standby, "done")
            high_bill = self._billing_vals(device, at_high.working, at_high.standby, "done")
            part_events = by_part[index]
            seqs = [e["seq"] for e in part_events]
            vals = {
                "started_at": low, "ended_at": high or whole.ended_at, "state": state,
                "stop_reason": "member_change" if high else whole.stop_reason,
                "last_event_at": high or whole.last_event_at,
                "total_s": total, "working_s": working, "standby_s": standby,
                "energy_wh": max(at_high.energy - at_low.energy, 0.0),
                "first_seq": min(seqs) if seqs else False, "last_seq": max(seqs) if seqs else False,
                "applied_seq": max(seqs) if seqs else 0, "event_count": len(part_events),
                "late_event_count": sum(1 for e in part_events if e.get("_is_late")),
                "has_start_event": whole.has_start_event, "has_stop_event": whole.has_stop_event,
                "closed_by_odoo": bool(whole.closed_by_odoo and not high),
                "billable_s": max(high_bill["billable_s"] - low_bill["billable_s"], 0.0),
                "billing_units": max(high_bill["billing_units"] - low_bill["billing_units"], 0),
                "billing_state": "pending" if state == "running" else "to_bill",
            }
            vals["billing_amount"] = vals["billing_units"] * (device.billing_price_unit or 0.0)
            part = parts[index] if index < len(parts) else self.browse()
            result |= self._write_part(part, vals, uid, index, device, worker)
        links = {}
        for index, part_events in enumerate(by_part):
            links.update({e["event_uid"]: result[index].id for e in part_events})
        self._link_events(links)  # the same UPDATE serves the session events stored earlier
        return result, links

    def _write_part(self, part, vals, uid, index, device, worker):
        if not part:
            return self.create(dict(vals, session_uid="%s/%d" % (uid, index) if index else uid,
                                    split_index=index, device_id=device.id, worker_id=worker.id))
        if part.billing_state == "billed":
            figures = {k: v for k, v in vals.items() if not k.startswith("billing") and k != "billable_s"}
            if any(part[k] != figures[k] for k in ("total_s", "working_s", "standby_s")):
                figures["changed_after_billing"] = True
            vals = figures
        vals = {k: v for k, v in vals.items() if part[k] != (v if v is not None else False)}
        if vals:
            part.write(vals)
        return part


def _event_time(event):
    payload = event["payload"]
    if event["type"] == "session_heartbeat":
        return parse_wire_ts(payload["interval_end"])
    if event["type"] == "session_stopped":
        return parse_wire_ts(payload["ended_at"])
    return parse_wire_ts(payload["started_at"])


def _curve(whole, events):
    """``[(time, Figures)]``: the session's cumulative figures as the worker reported them, from
    zero at the start; never decreasing (a late report with lower totals is ignored)."""
    points = [(whole.started_at, _ZERO)]
    for event in sorted(events, key=lambda e: (_event_time(e), e["seq"])):
        if event["type"] == "session_started":
            continue
        payload, last = event["payload"], points[-1][1]
        points.append((_event_time(event), Figures(
            max(payload["total_s"], last.total), max(payload["working_s"], last.working),
            max(payload["standby_s"], last.standby), max(payload.get("energy_wh") or 0.0, last.energy))))
    return points


def _figures_at(curve, at):
    """Cumulative figures at ``at``, linear between two reports, the last report's after it."""
    times = [t for t, _f in curve]
    index = bisect.bisect_right(times, at)
    if index == 0:
        return _ZERO
    if index == len(curve):
        return curve[-1][1]
    (t0, f0), (t1, f1) = curve[index - 1], curve[index]
    span = (t1 - t0).total_seconds()
    ratio = (at - t0).total_seconds() / span if span > 0 else 1.0
    return Figures(*(a + (b - a) * ratio for a, b in zip(f0, f1)))
