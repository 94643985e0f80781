/**
 * The start-to-close timeout of an activity that makes one Pulse request: the request's own timeout, the token
 * read and the client setup, with room for one slow answer. Short enough that an attempt lost with its worker is
 * retried soon, long enough that a slow but healthy Pulse is not cut off.
 */
export function pulseActivitySeconds(requestTimeoutMs: number): number {
  return Math.max(5, Math.ceil((3 * requestTimeoutMs) / 1000));
}

/**
 * The start-to-close timeout of an activity that makes several Pulse requests (a state refresh and every page of
 * the resources, or a list and a POST): room for a few slow answers at the configured request timeout.
 */
export function pulseReadActivitySeconds(requestTimeoutMs: number): number {
  return Math.max(60, Math.ceil((4 * requestTimeoutMs) / 1000));
}
