/** How figures read on the page and in the charts; anything not a finite number reads as a dash. */

export const DASH = "—";

const ok = (n: number | undefined): n is number => typeof n === "number" && Number.isFinite(n);

/** Milliseconds, 2 decimals. */
export function ms(n: number | undefined): string {
  return ok(n) ? n.toFixed(2) : DASH;
}

/** Requests per second: an integer with thousands separators. */
export function rps(n: number | undefined): string {
  return ok(n) ? Math.round(n).toLocaleString("en-US") : DASH;
}

/** Megabytes, 1 decimal. */
export function mb(n: number | undefined): string {
  return ok(n) ? n.toFixed(1) : DASH;
}

/** A count: an integer with thousands separators. */
export function count(n: number | undefined): string {
  return ok(n) ? Math.round(n).toLocaleString("en-US") : DASH;
}

/** ours / theirs, or undefined when either is missing or the divisor is not positive (a ratio over ~0 says nothing). */
export function ratio(ours: number | undefined, theirs: number | undefined): number | undefined {
  return ok(ours) && ok(theirs) && theirs > 0 ? ours / theirs : undefined;
}

export function times(x: number | undefined): string {
  return ok(x) ? `${x.toFixed(2)}×` : DASH;
}

/** "4 min 12 s" from two ISO instants. */
export function duration(fromIso: string, toIso: string): string {
  const s = (Date.parse(toIso) - Date.parse(fromIso)) / 1000;
  if (!ok(s) || s < 0) return DASH;
  return s < 60 ? `${s.toFixed(0)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
