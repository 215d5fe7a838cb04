import { setMaxListeners } from 'node:events';

/**
 * One controller cancels every request of a session (sign-out, dispose). Each request in flight
 * listens on its signal, so a busy deployment legitimately has more than Node's default of 10
 * listeners there; without this Node would print a leak warning into the extension host log.
 */
export function sharedAbort(): AbortController {
  const ctrl = new AbortController();
  setMaxListeners(0, ctrl.signal);
  return ctrl;
}
