import type { ProgramReport } from './program-report.service.js';

type Row = [section: string, category: string, subcategory: string, value: string | number | null];

/** Quoted as RFC 4180 asks; a leading formula character is defused so a spreadsheet shows the text instead of running it. */
function field(value: string | number | null): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The report as one long table (section, category, subcategory, value), the shape a spreadsheet pivots. */
export function reportCsv(report: ProgramReport): string {
  const rows: Row[] = [
    ['period', 'from', '', report.period.from],
    ['period', 'to (exclusive)', '', report.period.to],
    ['period', 'time zone', '', report.period.timeZone],
    ['registrations', 'self', '', report.registrations.self],
    ['registrations', 'enrolled', '', report.registrations.enrolled],
    ['registrations', 'stopped', '', report.registrations.stopped],
    ...report.registrations.byLanguage.flatMap((r): Row[] => [
      ['registrations by language', r.language, 'self', r.self],
      ['registrations by language', r.language, 'enrolled', r.enrolled],
    ]),
    ...report.registrations.byChannel.flatMap((r): Row[] => [
      ['contacts by channel', r.channel, 'self', r.self],
      ['contacts by channel', r.channel, 'enrolled', r.enrolled],
    ]),
    ['persons followed', '', '', report.personsFollowed],
    ...report.events.map((e): Row => ['events', e.source, e.type, e.count]),
    ['alerts', 'total', '', report.alerts.total],
    ['alerts', 'urgent', '', report.alerts.urgent],
    ['alerts', 'corrections', '', report.alerts.corrections],
    ...report.alerts.byStatus.map((a): Row => ['alerts by status', a.status, '', a.count]),
    ...report.deliveries.map((d): Row => ['deliveries', d.channel, d.status, d.count]),
    ['urgent alerts', 'count', '', report.urgentAlerts.count],
    ['urgent alerts', 'reached', '', report.urgentAlerts.reached],
    ['urgent alerts', 'confirmed with PIN', '', report.urgentAlerts.confirmed],
    ['urgent alerts', 'delivery rate', '', report.urgentAlerts.deliveryRate],
    ['urgent alerts', 'PIN confirmation rate', '', report.urgentAlerts.pinConfirmationRate],
    ['event to first attempt', 'alerts', '', report.eventToFirstAttempt.alerts],
    ['event to first attempt', 'median seconds', '', report.eventToFirstAttempt.medianSeconds],
    ['event to first attempt', 'p95 seconds', '', report.eventToFirstAttempt.p95Seconds],
    ['escalations', 'count', '', report.escalations.count],
    ['escalations', 'resolved', '', report.escalations.resolved],
    ['escalations', 'median minutes to resolve', '', report.escalations.medianMinutesToResolve],
    ['escalations', 'p95 minutes to resolve', '', report.escalations.p95MinutesToResolve],
    ...report.feedOutages.flatMap((f): Row[] => [
      ['feed outages', f.source, 'outages', f.outages],
      ['feed outages', f.source, 'stale minutes', f.staleMinutes],
    ]),
    ['held roster changes', 'held', '', report.heldRosters.held],
    ['held roster changes', 'approved', '', report.heldRosters.approved],
    ['held roster changes', 'discarded', '', report.heldRosters.discarded],
    ['opt-outs', 'SMS STOP', '', report.optOuts.stops],
    ['opt-outs', 'unsubscribes', '', report.optOuts.unsubscribes],
    ...report.servicesShared.map((r): Row => ['services shared', r.kind, '', r.count]),
  ];
  return [['section', 'category', 'subcategory', 'value'], ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}
