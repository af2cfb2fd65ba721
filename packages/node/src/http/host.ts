/**
 * The Host-header check of the local servers: a web page anywhere can make the browser request
 * 127.0.0.1, and with DNS rebinding (a name of the attacker's that resolves to 127.0.0.1) read the
 * answers; refusing Host names other than the server's own closes that door.
 */

/** The host name of a Host header (`a:1` → `a`, `[::1]:1` → `::1`), lower case; undefined when malformed. */
export function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^(?:\[([0-9a-f:.]+)\]|([^\s:[\]/@]+))(?::(\d{1,5}))?$/i.exec(header.trim());
  return m ? (m[1] ?? m[2]).toLowerCase() : undefined;
}

/** The host names a request may name (DNS rebinding: another name pointing at 127.0.0.1 is refused). */
export function allowedHostNames(host: string | undefined, extra: readonly string[] = []): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '::1']);
  const own = host?.replace(/^\[|\]$/g, '').toLowerCase();
  if (own && own !== '0.0.0.0' && own !== '::') names.add(own);
  for (const h of extra) names.add(h.replace(/^\[|\]$/g, '').toLowerCase());
  return names;
}

