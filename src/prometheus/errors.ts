/**
 * Typed failures of the Prometheus client. The monitor and the gates decide on `kind`, never on message text:
 * - `unavailable`: no usable answer (connection refused, timeout, 503, a proxy's HTML page). A check whose
 *   query could not run is 'inconclusive', never a pass.
 * - `auth`: 401/403 from Prometheus or a proxy in front of it: the bearer token is missing or wrong.
 * - `query`: Prometheus refused the expression (bad_data / execution errors, HTTP 400/422): a bug in the
 *   catalogue or a window that Prometheus rejects; retrying the same query cannot help.
 * - `protocol`: a 2xx answer that does not have the documented shape.
 * Messages are scrubbed of the bearer token.
 */
export type PrometheusErrorKind = 'unavailable' | 'auth' | 'query' | 'protocol';

export class PrometheusError extends Error {
  constructor(
    message: string,
    readonly kind: PrometheusErrorKind,
    /** Prometheus's errorType (bad_data, execution, timeout, canceled, internal, unavailable) when it sent one. */
    readonly errorType?: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = `Prometheus${kind[0].toUpperCase()}${kind.slice(1)}Error`;
  }

  get retryable(): boolean {
    return this.kind === 'unavailable';
  }

  toJSON(): { kind: PrometheusErrorKind; message: string; errorType?: string; status?: number } {
    return { kind: this.kind, message: this.message, errorType: this.errorType, status: this.status };
  }
}
