/**
 * What `canary simulate` prints: a timeline table (one line per event: a checkpoint going red or green, a green-clock
 * start or reset and why, an instance taken out, a gate opening, a phase, an abort) with a summary, and an SVG chart
 * of the green clock per phase, hand-written (no library): one panel per phase, the hours of continuous green over
 * time, the 24 h the phase 1 gate needs, resets, the gate opening and the abort marked. Pure.
 */
import type { CanaryInput } from '../config/canary.js';
import { formatDuration } from './render.js';
import type { SimulationResult } from './simulate.js';

const hours = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 3_600_000;

export function renderSimulation(r: SimulationResult, opts: { maxDetail?: number } = {}): string {
  const max = opts.maxDetail ?? 200;
  const cut = (s: string) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);
  const lines = [
    `Canary simulation of ${r.rollout}: ${r.from} to ${r.to} (${formatDuration((Date.parse(r.to) - Date.parse(r.from)) / 1000)}), a check every ${r.stepSeconds} s; ${r.evaluations} check(s) replayed`,
    `Series: ${r.source}`,
    ...r.notes.map((n) => `Note: ${n}`),
    '',
  ];
  const rows = r.events.map((e) => [e.at, String(e.phase), e.what, cut(e.detail)]);
  const head = ['TIME', 'PHASE', 'EVENT', 'DETAIL'];
  const width = [0, 1, 2].map((i) => Math.max(head[i].length, ...rows.map((row) => row[i].length)));
  const line = (row: string[]) =>
    row
      .map((c, i) => (i < 3 ? c.padEnd(width[i]) : c))
      .join('  ')
      .trimEnd();
  lines.push(line(head), ...rows.map(line), '');
  for (const p of r.phases) {
    const end = p.endedAt ?? r.endedAt;
    lines.push(
      `Phase ${p.phase}: ${p.startedAt} to ${p.endedAt ?? `${r.endedAt} (${r.abort ? 'aborted' : 'end of the range'})`} (${formatDuration(hours(p.startedAt, end) * 3600)})` +
        (p.phase === 3
          ? ''
          : p.gateOpenedAt
            ? `; exit gate open at ${p.gateOpenedAt}, ${formatDuration(hours(p.startedAt, p.gateOpenedAt) * 3600)} into the phase`
            : '; exit gate never opened'),
    );
  }
  lines.push(`Green clock: ${r.resets.length ? `reset ${r.resets.length} time(s)` : 'never reset'}`);
  if (r.instances) {
    const counts = Object.entries(r.instances.counts)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ');
    lines.push(
      `Instances: ${counts}${r.instances.broke.length ? `; taken out by their own checkpoints: ${r.instances.broke.map((b) => `${b.name} at ${b.at}`).join(', ')}` : ''}`,
    );
  }
  lines.push(
    r.abort
      ? `Abort: ${r.abort.criterion} at ${r.abort.at} in phase ${r.abort.phase}: ${r.abort.reason}`
      : 'Abort: none of the criteria fired',
  );
  return lines.join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (n: number) => (Math.round(n * 10) / 10).toString();

/** The green clock per phase as an SVG document. */
export function greenClockSvg(r: SimulationResult, input: CanaryInput): string {
  const W = 960;
  const PANEL = 190;
  const M = { left: 60, right: 20, top: 34, bottom: 36 };
  const H = r.phases.length * PANEL + 30;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>Green clock of canary rollout ${esc(r.rollout)}, ${esc(r.from)} to ${esc(r.endedAt)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="18" font-size="14" font-weight="bold">Canary ${esc(r.rollout)}: hours of continuous green per phase (simulated, a check every ${r.stepSeconds} s)</text>`,
  ];
  r.phases.forEach((p, i) => {
    const y0 = 30 + i * PANEL;
    const start = Date.parse(p.startedAt);
    const end = Math.max(start + r.stepSeconds * 1000, Date.parse(p.endedAt ?? r.endedAt));
    const points = r.clock.filter((c) => c.phase === p.phase && c.at >= start && c.at <= end);
    const needed = p.phase === 1 ? input.phase1.greenSeconds / 3600 : undefined;
    const top = Math.max(needed ?? 0, ...points.map((c) => c.greenForSeconds / 3600), 1) * 1.1;
    const x = (t: number) => M.left + ((t - start) / (end - start)) * (W - M.left - M.right);
    const y = (h: number) => y0 + M.top + (1 - h / top) * (PANEL - M.top - M.bottom);
    const base = y(0);
    out.push(`<g class="phase-${p.phase}">`);
    out.push(
      `<text x="${M.left}" y="${y0 + 20}" font-weight="bold">Phase ${p.phase}: ${esc(p.startedAt)} to ${esc(p.endedAt ?? r.endedAt)}${
        p.phase === 1
          ? `; gate: ${input.phase1.minSeconds / 3600} h in phase and ${input.phase1.greenSeconds / 3600} h continuous green`
          : p.phase === 2
            ? `; gate: ${input.phase2.minSeconds / 86400} days in phase and ${input.phase2.quietSeconds / 86400} days without a critical issue`
            : '; permanent'
      }</text>`,
    );
    out.push(
      `<line x1="${M.left}" y1="${fmt(base)}" x2="${W - M.right}" y2="${fmt(base)}" stroke="#444"/>`,
      `<line x1="${M.left}" y1="${fmt(y(top))}" x2="${M.left}" y2="${fmt(base)}" stroke="#444"/>`,
    );
    for (const tick of [0, top / 1.1 / 2, top / 1.1])
      out.push(`<text x="${M.left - 6}" y="${fmt(y(tick) + 4)}" text-anchor="end">${fmt(tick)} h</text>`);
    out.push(
      `<text x="${M.left}" y="${fmt(base + 16)}">${esc(p.startedAt.slice(0, 16))}</text>`,
      `<text x="${W - M.right}" y="${fmt(base + 16)}" text-anchor="end">${esc((p.endedAt ?? r.endedAt).slice(0, 16))}</text>`,
    );
    if (needed !== undefined) {
      out.push(
        `<line x1="${M.left}" y1="${fmt(y(needed))}" x2="${W - M.right}" y2="${fmt(y(needed))}" stroke="#2a7" stroke-dasharray="6 4"/>`,
        `<text x="${M.left + 4}" y="${fmt(y(needed) - 4)}" fill="#2a7">${needed} h needed</text>`,
      );
    }
    // Between corners the clock rises with time while green, so a straight line joins them.
    const path = points.map((c, k) => `${k ? 'L' : 'M'}${fmt(x(c.at))},${fmt(y(c.greenForSeconds / 3600))}`).join(' ');
    if (path) out.push(`<path d="${path}" fill="none" stroke="#1a5fb4" stroke-width="1.5"/>`);
    for (const reset of r.resets.filter((z) => Date.parse(z.at) >= start && Date.parse(z.at) <= end)) {
      out.push(
        `<circle cx="${fmt(x(Date.parse(reset.at)))}" cy="${fmt(base)}" r="3.5" fill="#c01c28"><title>${esc(`${reset.at}: ${reset.reason}`)}</title></circle>`,
      );
    }
    if (p.gateOpenedAt) {
      const gx = fmt(x(Date.parse(p.gateOpenedAt)));
      out.push(
        `<line x1="${gx}" y1="${fmt(y(top))}" x2="${gx}" y2="${fmt(base)}" stroke="#2a7"/>`,
        `<text x="${gx}" y="${fmt(y(top) - 2)}" text-anchor="end" fill="#2a7">gate open ${esc(p.gateOpenedAt.slice(0, 16))}</text>`,
      );
    }
    if (r.abort && r.abort.phase === p.phase) {
      const ax = fmt(x(Date.parse(r.abort.at)));
      out.push(
        `<line x1="${ax}" y1="${fmt(y(top))}" x2="${ax}" y2="${fmt(base)}" stroke="#c01c28" stroke-width="2"/>`,
        `<text x="${ax}" y="${fmt(y(top) - 2)}" text-anchor="end" fill="#c01c28">${esc(r.abort.criterion)} ${esc(r.abort.at.slice(0, 16))}</text>`,
      );
    }
    out.push('</g>');
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
