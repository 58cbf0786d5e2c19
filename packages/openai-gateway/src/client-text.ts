/**
 * Text a client chose (a model name, a URL), shortened before the gateway repeats it in a message,
 * a log line or a metric label: a request may carry a 1 MB model name.
 */
export function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max)}…(+${value.length - max} chars)`;
}
