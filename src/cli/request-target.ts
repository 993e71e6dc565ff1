/**
 * The path of an HTTP request target, read from the raw string: no URL parser, so no target can make
 * it throw. `/room?x=1` → `/room`; `//` → `//` (a path, not an authority as `new URL('//', base)`
 * would read it); the absolute form `ws://host:port/room` → `/room` (`/` when it has no path).
 * Anything else (`*`, `room`) has no path: null.
 */
export function requestPath(target: string): string | null {
  if (target.startsWith('/')) return beforeQuery(target);
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(target);
  if (scheme === null) return null;
  const rest = target.slice(scheme[0].length);
  const slash = rest.search(/[/?#]/);
  if (slash === -1 || rest[slash] !== '/') return '/';
  return beforeQuery(rest.slice(slash));
}

function beforeQuery(path: string): string {
  const end = path.search(/[?#]/);
  return end === -1 ? path : path.slice(0, end);
}
