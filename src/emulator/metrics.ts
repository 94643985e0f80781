/**
 * A tiny Prometheus registry that writes the text exposition format the way client_golang does:
 * families sorted by name, label names sorted, a family with no series left out entirely (series are
 * born on first use, so a counter appears at 1), and numbers formatted like Go's strconv 'g' (-1),
 * e.g. 1.7e+09 for a Unix timestamp. Names, help texts, types and buckets are Pulse's
 * (internal/monitoring/metrics.go, internal/api/http_metrics.go).
 */

export const POLL_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 20, 30];
export const HTTP_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Labels = Record<string, string>;
type Kind = 'counter' | 'gauge' | 'histogram';

interface Family {
  name: string;
  help: string;
  kind: Kind;
  buckets?: number[];
  series: Map<string, { labels: Labels; value: number; counts?: number[]; sum?: number; count?: number }>;
}

/**
 * strconv.AppendFloat(v, 'g', -1, 64), which client_golang's text writer uses: shortest digits, and the
 * exponent form (at least two exponent digits) when exp < -4 or exp >= 6. So 123456 → "123456",
 * 1234567 → "1.234567e+06", 1.76e9 → "1.76e+09", 0.00001 → "1e-05".
 */
export function goFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return '0';
  const [mantissa, expText] = v.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const abs = Math.abs(exp);
    return `${mantissa}e${exp < 0 ? '-' : '+'}${abs < 10 ? `0${abs}` : abs}`;
  }
  return String(v);
}

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();

  define(name: string, kind: Kind, help: string, buckets?: number[]): void {
    if (!this.families.has(name)) this.families.set(name, { name, help, kind, buckets, series: new Map() });
  }

  inc(name: string, labels: Labels, by = 1): void {
    const s = this.seriesFor(name, labels);
    s.value += by;
  }

  set(name: string, labels: Labels, value: number): void {
    this.seriesFor(name, labels).value = value;
  }

  observe(name: string, labels: Labels, value: number): void {
    const fam = this.family(name);
    const s = this.seriesFor(name, labels);
    s.counts ??= (fam.buckets ?? []).map(() => 0);
    (fam.buckets ?? []).forEach((b, i) => {
      if (value <= b) s.counts![i] += 1;
    });
    s.sum = (s.sum ?? 0) + value;
    s.count = (s.count ?? 0) + 1;
  }

  /** The current value of one series, or undefined when it was never created (lazy creation). */
  value(name: string, labels: Labels): number | undefined {
    return this.families.get(name)?.series.get(labelKey(labels))?.value;
  }

  expose(): string {
    const lines: string[] = [];
    for (const fam of [...this.families.values()].sort((a, b) => byteCompare(a.name, b.name))) {
      if (fam.series.size === 0) continue;
      lines.push(`# HELP ${fam.name} ${fam.help}`, `# TYPE ${fam.name} ${fam.kind}`);
      const series = [...fam.series.entries()].sort(([a], [b]) => byteCompare(a, b)).map(([, s]) => s);
      for (const s of series) {
        if (fam.kind !== 'histogram') {
          lines.push(`${fam.name}${formatLabels(s.labels)} ${goFloat(s.value)}`);
          continue;
        }
        (fam.buckets ?? []).forEach((b, i) => {
          lines.push(`${fam.name}_bucket${formatLabels({ ...s.labels, le: goFloat(b) })} ${goFloat(s.counts?.[i] ?? 0)}`);
        });
        lines.push(`${fam.name}_bucket${formatLabels({ ...s.labels, le: '+Inf' })} ${goFloat(s.count ?? 0)}`);
        lines.push(`${fam.name}_sum${formatLabels(s.labels)} ${goFloat(s.sum ?? 0)}`);
        lines.push(`${fam.name}_count${formatLabels(s.labels)} ${goFloat(s.count ?? 0)}`);
      }
    }
    return lines.length > 0 ? `${lines.join('\n')}\n` : '';
  }

  private family(name: string): Family {
    const fam = this.families.get(name);
    if (!fam) throw new Error(`metric ${name} is not defined; call define() first`);
    return fam;
  }

  private seriesFor(name: string, labels: Labels) {
    const fam = this.family(name);
    const key = labelKey(labels);
    let s = fam.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, value: 0 };
      fam.series.set(key, s);
    }
    return s;
  }
}

const byteCompare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join('\u0000');
}

function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort((a, b) => (a === 'le' ? 1 : b === 'le' ? -1 : byteCompare(a, b)));
  if (keys.length === 0) return '';
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `{${keys.map((k) => `${k}="${escape(labels[k])}"`).join(',')}}`;
}
