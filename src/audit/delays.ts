/** How delays read in metrics labels and logs. Pure. */

/** The label of a delay: `500ms`, `10s`, `2m` (the shortest exact form, as AUDIT_DELAYS writes it). */
export function formatDelay(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
