/** One sample of a Prometheus text exposition, e.g. `postwarden_deliveries_total{outcome="delivered"}`. */
export function metricSample(text: string, series: string): number | undefined {
  const escaped = series.replace(/[{}"=.+]/g, (char) => `\\${char}`);
  const match = new RegExp(`^${escaped} ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}
